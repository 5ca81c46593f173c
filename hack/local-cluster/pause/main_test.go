package main

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

func TestRunReapsUntilTerminated(t *testing.T) {
	t.Parallel()
	for _, stop := range []os.Signal{syscall.SIGTERM, syscall.SIGINT} {
		sigs := make(chan os.Signal, 3)
		reaped := 0
		sigs <- syscall.SIGCHLD
		sigs <- syscall.SIGCHLD
		sigs <- stop
		done := make(chan struct{})
		go func() {
			run(sigs, func() { reaped++ })
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("run did not return after %v", stop)
		}
		if reaped != 2 {
			t.Errorf("after two SIGCHLD and %v: reaped %d times, want 2", stop, reaped)
		}
	}
}

// TestReapCollectsExitedChildren starts children that exit and checks that
// reap leaves no zombie behind: each is gone from the process table.
func TestReapCollectsExitedChildren(t *testing.T) {
	t.Parallel()
	var pids []int
	for range 3 {
		cmd := exec.CommandContext(t.Context(), "true")
		if err := cmd.Start(); err != nil {
			t.Skipf("cannot start a child: %v", err)
		}
		pids = append(pids, cmd.Process.Pid)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		reap()
		left := 0
		for _, pid := range pids {
			if syscall.Kill(pid, 0) == nil {
				left++
			}
		}
		if left == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d exited children were not reaped", left, len(pids))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
