//go:build unix

package proc

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestHelperProcess is not a test: Start runs the test binary with it as a
// long-running helper. It stays idle until it is signalled, and ends itself
// after a minute so that a failed test never leaves it behind.
func TestHelperProcess(*testing.T) {
	i := slices.Index(os.Args, "--")
	if i < 0 || i+1 >= len(os.Args) {
		return
	}
	if os.Args[i+1] == "ignore-term" {
		signal.Ignore(syscall.SIGTERM)
	}
	fmt.Println("ready") // the log line startHelper waits for
	time.Sleep(time.Minute)
	os.Exit(3)
}

// match is what the helper's command line contains.
func match(t *testing.T) string {
	t.Helper()
	return filepath.Base(os.Args[0])
}

func startHelper(t *testing.T, mode string) (pidFile string, pid int) {
	t.Helper()
	dir := t.TempDir()
	pidFile = filepath.Join(dir, "helper.pid")
	logFile := filepath.Join(dir, "helper.log")
	pid, err := Start(os.Args[0], []string{"-test.run=^TestHelperProcess$", "--", mode}, pidFile, logFile)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Kill(-pid, syscall.SIGKILL) }) // in case the test failed before Stop
	// Wait until the helper has set up its signal handling, with a deadline.
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(logFile) // not yet written is the same as not ready
		if strings.Contains(string(b), "ready") {
			return pidFile, pid
		}
		if time.Now().After(deadline) {
			t.Fatalf("helper not ready after 10s; log: %q", b)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestStartRunningStop(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"idle", "ignore-term"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			pidFile, pid := startHelper(t, mode)
			got, ok := Running(pidFile, match(t))
			if !ok || got != pid {
				t.Fatalf("Running after Start: got %d %v, want %d true", got, ok, pid)
			}
			if _, ok := Running(pidFile, "cloud-provider-kind"); ok {
				t.Error("Running with another program's name: got true, want false")
			}
			const grace = 300 * time.Millisecond
			start := time.Now()
			if err := Stop(t.Context(), pidFile, match(t), grace); err != nil {
				t.Fatalf("Stop: %v", err)
			}
			// A helper that ignores SIGTERM only ends by the SIGKILL after grace.
			if took := time.Since(start); mode == "ignore-term" && took < grace {
				t.Errorf("Stop of a helper ignoring SIGTERM took %v, want at least the grace %v", took, grace)
			}
			if _, ok := Running(pidFile, match(t)); ok {
				t.Error("Running after Stop: got true, want false")
			}
			if _, err := os.Stat(pidFile); !os.IsNotExist(err) {
				t.Errorf("pid file after Stop: got %v, want it removed", err)
			}
			if err := Stop(t.Context(), pidFile, match(t), time.Second); err != nil {
				t.Errorf("second Stop: got %v, want nil (idempotent)", err)
			}
		})
	}
}

func TestStopLeavesOtherProgramsAlone(t *testing.T) {
	t.Parallel()
	pidFile, pid := startHelper(t, "idle")
	if err := Stop(t.Context(), pidFile, "cloud-provider-kind", time.Second); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if !alive(pid, match(t)) {
		t.Fatal("Stop killed a process whose command line did not match")
	}
}

func TestRunningBadRecords(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, content := range map[string]string{"garbage": "not a pid", "init": "1", "gone": "999999999"} {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, ok := Running(f, "x"); ok {
			t.Errorf("Running(%s=%q): got true, want false", name, content)
		}
	}
	if _, ok := Running(filepath.Join(dir, "missing"), "x"); ok {
		t.Error("Running without a pid file: got true, want false")
	}
}
