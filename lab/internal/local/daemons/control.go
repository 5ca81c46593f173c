package daemons

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/podpaths/podpaths/lab/internal/proc"
)

// PidFile is where the daemon's pid is recorded.
func (d Daemon) PidFile() string { return d.pidFile }

// Name is the daemon's role: etcd, kube-apiserver, kubelet, ...
func (d Daemon) Name() string { return d.name }

// Program is the path of the program the daemon runs.
func (d Daemon) Program() string { return d.bin }

// match is what a daemon's command line must contain for its recorded pid
// to count as that daemon: its name, which is also its program's. After a
// reboot the pid may belong to another program.
func (d Daemon) match() string { return d.name }

// Running reports whether the process recorded for d runs and is d.
func Running(d Daemon) bool {
	_, ok := proc.Running(d.pidFile, d.match())
	return ok
}

// exited reports whether the process recorded for d has ended (or is a
// zombie). Unlike Running it does not look at the command line, which is
// briefly unreadable while env(1) execs the program; the pid was recorded
// moments ago, so it cannot belong to another program yet.
func exited(d Daemon) bool {
	raw, err := os.ReadFile(d.pidFile)
	if err != nil {
		return true
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		return true
	}
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return true
	}
	// The state follows the command name, which is in parentheses.
	rest := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(rest) == 0 || rest[0] == "Z" || rest[0] == "X"
}

// Ensure starts d unless it already runs with the same spec; a daemon whose
// command or config changed is restarted. This is what makes a second `up`
// quick.
func Ensure(ctx context.Context, log *slog.Logger, d Daemon) error {
	spec, err := d.specHash()
	if err != nil {
		return err
	}
	if pid, ok := proc.Running(d.pidFile, d.match()); ok {
		if old, err := os.ReadFile(d.specFile()); err == nil && string(old) == spec {
			log.Debug("already running", "daemon", d.String(), "pid", pid)
			return nil
		}
		log.Info("restarting: its command or config changed", "daemon", d.String(), "pid", pid)
		if err := Stop(ctx, log, d); err != nil {
			return err
		}
	}
	for _, dir := range []string{filepath.Dir(d.logFile), filepath.Dir(d.pidFile)} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("%s: %w", d, err)
		}
	}
	pid, err := proc.Start("env", d.command(), d.pidFile, d.logFile)
	if err != nil {
		return fmt.Errorf("start %s: %w", d, err)
	}
	if err := os.WriteFile(d.specFile(), []byte(spec), 0o644); err != nil {
		return fmt.Errorf("%s: %w", d, err)
	}
	log.Info("started", "daemon", d.String(), "pid", pid, "log", d.logFile)
	return nil
}

// Stop stops d by its recorded pid: SIGTERM, SIGKILL after its grace.
func Stop(ctx context.Context, log *slog.Logger, d Daemon) error {
	if pid, ok := proc.Running(d.pidFile, d.match()); ok {
		log.Info("stopping", "daemon", d.String(), "pid", pid)
	}
	if err := proc.Stop(ctx, d.pidFile, d.match(), d.grace); err != nil {
		return fmt.Errorf("stop %s: %w", d, err)
	}
	if err := os.Remove(d.specFile()); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("stop %s: %w", d, err)
	}
	return nil
}

// StopAll stops daemons at once: nothing orders them once the ones that
// depend on them are gone, and the API server may take its whole grace.
func StopAll(ctx context.Context, log *slog.Logger, ds []Daemon) error {
	errs := make([]error, len(ds))
	var wg sync.WaitGroup
	for i, d := range ds {
		wg.Go(func() { errs[i] = Stop(ctx, log, d) })
	}
	wg.Wait()
	return errors.Join(errs...)
}
