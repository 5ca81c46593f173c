//go:build linux

package host_test

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/podpaths/podpaths/lab/internal/local/host"
)

// TestDialFrom dials a listener on this machine's loopback, once from here
// and once from a fresh network namespace, whose loopback is down: only
// the dial from here may reach it, which proves that DialFrom's socket was
// made in the namespace and that the thread came back.
func TestDialFrom(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a network namespace")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("needs unshare(1)")
	}
	file := filepath.Join(t.TempDir(), "netns")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.CommandContext(t.Context(), "unshare", "--net="+file, "true").CombinedOutput(); err != nil {
		t.Fatalf("unshare --net=%s: %v: %s", file, err, out)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(file, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", file, err)
		}
	})
	var lc net.ListenConfig
	ln, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() }) //nolint:errcheck // test listener

	dial := host.DialFrom(file)
	for range 3 { // the thread must come back every time
		if conn, err := dial(t.Context(), "tcp", ln.Addr().String()); err == nil || !errors.Is(err, syscall.ENETUNREACH) {
			if conn != nil {
				conn.Close() //nolint:errcheck // test connection
			}
			t.Fatalf("dial %s from the namespace: %v, want network unreachable (its loopback is down)", ln.Addr(), err)
		}
		conn, err := (&net.Dialer{}).DialContext(t.Context(), "tcp", ln.Addr().String())
		if err != nil {
			t.Fatalf("dial %s from here after DialFrom: %v", ln.Addr(), err)
		}
		conn.Close() //nolint:errcheck // test connection
	}
	if _, err := dial(t.Context(), "tcp", "localhost:80"); err == nil {
		t.Errorf("dial localhost:80 from the namespace: no error, want one: names are refused")
	}
}
