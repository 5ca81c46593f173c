//go:build unix

// Package proc starts helper programs that must outlive the lab command that
// started them (cloud-provider-kind on kind; the host processes of the local
// cluster), records their pid in a file, and stops them later by that pid.
//
// Before it signals a recorded pid it checks that the process still runs the
// expected program: after a reboot the pid may belong to something else.
package proc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Start runs bin with args in a new process group, appends its output to
// logFile and writes its pid to pidFile. The new process group keeps a later
// Ctrl-C in the user's terminal from reaching it.
func Start(bin string, args []string, pidFile, logFile string) (int, error) {
	logOut, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return 0, fmt.Errorf("open log: %w", err)
	}
	defer logOut.Close() //nolint:errcheck // the child holds its own descriptor; ours is only closed
	// Not CommandContext: the helper must outlive the lab's context, which
	// ends when the lab exits.
	cmd := exec.Command(bin, args...) //nolint:noctx // see above
	cmd.Stdout, cmd.Stderr = logOut, logOut
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start %s: %w", bin, err)
	}
	pid := cmd.Process.Pid
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		// Without the record nobody could stop it later, so stop it now.
		_ = syscall.Kill(-pid, syscall.SIGKILL) // best effort; the write error is the one to report
		return 0, fmt.Errorf("record pid: %w", err)
	}
	// The lab exits long before the helper; init reaps it then.
	if err := cmd.Process.Release(); err != nil {
		return pid, fmt.Errorf("release %s: %w", bin, err)
	}
	return pid, nil
}

// Running returns the recorded pid when that process is alive and its
// command line contains match.
func Running(pidFile, match string) (int, bool) {
	pid, err := readPid(pidFile)
	if err != nil {
		return 0, false
	}
	return pid, alive(pid, match)
}

// Stop ends the recorded process: SIGTERM to its process group, then SIGKILL
// if it still runs after grace. It removes the pid file. No record, or a
// record of a process that is gone, is not an error: Stop is idempotent.
func Stop(ctx context.Context, pidFile, match string, grace time.Duration) error {
	pid, ok := Running(pidFile, match)
	if ok {
		if err := signalGroup(pid, syscall.SIGTERM); err != nil {
			return err
		}
		if !waitGone(ctx, pid, match, grace) {
			if err := signalGroup(pid, syscall.SIGKILL); err != nil {
				return err
			}
			waitGone(ctx, pid, match, grace)
		}
	}
	if err := os.Remove(pidFile); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove pid file: %w", err)
	}
	return nil
}

// Kill sends SIGKILL to one process; one that is gone already is no error.
func Kill(pid int) error {
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}

func signalGroup(pid int, sig syscall.Signal) error {
	if err := syscall.Kill(-pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signal %d: %w", pid, err)
	}
	return nil
}

// waitGone polls until the process is gone or the grace period ends. There is
// no event for "a process that is not my child exited", so this polls.
func waitGone(ctx context.Context, pid int, match string, grace time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, grace)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for alive(pid, match) {
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
	}
	return true
}

func readPid(pidFile string) (int, error) {
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		return 0, fmt.Errorf("bad pid file %s: %q", pidFile, b)
	}
	return pid, nil
}

// alive reports whether pid exists, is not a zombie and runs match.
func alive(pid int, match string) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	state, cmdline, err := describe(pid)
	if err != nil {
		return false
	}
	return !strings.HasPrefix(state, "Z") && strings.Contains(cmdline, match)
}

// describe returns a process's state and command line: from /proc on Linux,
// from ps elsewhere (macOS).
func describe(pid int) (state, cmdline string, err error) {
	dir := "/proc/" + strconv.Itoa(pid)
	if stat, err := os.ReadFile(dir + "/stat"); err == nil {
		// The state follows the command name, which is in parentheses and
		// may itself contain spaces or parentheses.
		rest := string(stat[strings.LastIndexByte(string(stat), ')')+1:])
		cmd, err := os.ReadFile(dir + "/cmdline")
		if err != nil {
			return "", "", err
		}
		return strings.TrimSpace(rest), strings.ReplaceAll(string(cmd), "\x00", " "), nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ps", "-o", "stat=,command=", "-p", strconv.Itoa(pid)).Output()
	if err != nil {
		return "", "", fmt.Errorf("ps %d: %w", pid, err)
	}
	state, cmdline, _ = strings.Cut(strings.TrimSpace(string(out)), " ")
	return state, cmdline, nil
}
