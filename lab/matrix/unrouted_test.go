package matrix

import (
	"net/netip"
	"os"
	"os/exec"
	"testing"
)

func TestUnroutedIsFalseWithARoute(t *testing.T) {
	// Every machine routes loopback, so a call there would be sent.
	for _, ip := range []string{"127.0.0.1", "127.0.0.2"} {
		if Unrouted(netip.MustParseAddr(ip)) {
			t.Errorf("Unrouted(%s) = true; loopback has a route", ip)
		}
	}
}

// inEmptyNetns is set in the copy of the test binary that runs in a network
// namespace of its own, which has no route at all.
const inEmptyNetns = "PODPATHS_TEST_IN_EMPTY_NETNS"

func TestUnroutedIsTrueWithoutARoute(t *testing.T) {
	if os.Getenv(inEmptyNetns) == "1" {
		if !Unrouted(netip.MustParseAddr("10.96.0.1")) {
			t.Fatal("Unrouted(10.96.0.1) = false in a network namespace without routes")
		}
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("a network namespace of the test's own needs root")
	}
	cmd := exec.CommandContext(t.Context(), "unshare", "--net", os.Args[0], "-test.run=^TestUnroutedIsTrueWithoutARoute$", "-test.count=1")
	cmd.Env = append(os.Environ(), inEmptyNetns+"=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("in a network namespace of its own: %v\n%s", err, out)
	}
}
