package local

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/podpaths/podpaths/lab/internal/proc"
)

// match is what a daemon's command line must contain for its recorded pid
// to count as that daemon: its name, which is also its program's. After a
// reboot the pid may belong to another program.
func (d daemon) match() string { return d.name }

func daemonRunning(d daemon) bool {
	_, ok := proc.Running(d.pidFile, d.match())
	return ok
}

// daemonExited reports whether the process recorded for d has ended (or
// is a zombie). Unlike daemonRunning it does not look at the command line,
// which is briefly unreadable while env(1) execs the program; the pid was
// recorded moments ago, so it cannot belong to another program yet.
func daemonExited(d daemon) bool {
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

// ensureDaemon starts d unless it already runs with the same spec; a daemon
// whose command or config changed is restarted. This is what makes a second
// `up` quick.
func (p *Provider) ensureDaemon(ctx context.Context, d daemon) error {
	spec, err := d.specHash()
	if err != nil {
		return err
	}
	if pid, ok := proc.Running(d.pidFile, d.match()); ok {
		if old, err := os.ReadFile(d.specFile()); err == nil && string(old) == spec {
			p.log.Debug("already running", "daemon", d.String(), "pid", pid)
			return nil
		}
		p.log.Info("restarting: its command or config changed", "daemon", d.String(), "pid", pid)
		if err := p.stopDaemon(ctx, d); err != nil {
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
	p.log.Info("started", "daemon", d.String(), "pid", pid, "log", d.logFile)
	return nil
}

// stopDaemon stops d by its recorded pid: SIGTERM, SIGKILL after its grace.
func (p *Provider) stopDaemon(ctx context.Context, d daemon) error {
	if pid, ok := proc.Running(d.pidFile, d.match()); ok {
		p.log.Info("stopping", "daemon", d.String(), "pid", pid)
	}
	if err := proc.Stop(ctx, d.pidFile, d.match(), d.grace); err != nil {
		return fmt.Errorf("stop %s: %w", d, err)
	}
	if err := os.Remove(d.specFile()); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("stop %s: %w", d, err)
	}
	return nil
}
