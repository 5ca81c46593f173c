package matrix

import (
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
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

func TestDialUnroutedRefusesARoutedAddress(t *testing.T) {
	ln, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close() //nolint:errcheck // test listener
	conn, err := DialUnrouted(t.Context(), "tcp", ln.Addr().String())
	if err == nil {
		_ = conn.Close() //nolint:errcheck // it should not exist
		t.Fatalf("DialUnrouted(%s) connected; loopback is routed, so it must refuse without dialing", ln.Addr())
	}
	if !strings.Contains(err.Error(), "has a route there") {
		t.Errorf("DialUnrouted(%s): %v; want the refusal", ln.Addr(), err)
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
