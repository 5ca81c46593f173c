package local

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// host is the machine the cluster runs on, as far as the network guards, the
// outside client and the teardown need it. Tests replace it with a fake that
// records commands.
type host interface {
	runner
	readSysctl(key string) (string, error)
	writeSysctl(key, value string) error
	linkExists(name string) bool
	chainExists(ctx context.Context, name string) bool
	routeExists(ctx context.Context, r route) bool
	// mounted reports whether path is a mount point.
	mounted(path string) bool
}

// runner runs commands: the host does, in its own network namespace, and
// nodeNamespace in a node's.
type runner interface {
	// run runs a command with stdin and returns its output; the error
	// carries the output too.
	run(ctx context.Context, stdin []byte, name string, args ...string) (string, error)
}

// machine is the real host.
type machine struct{}

func (machine) run(ctx context.Context, stdin []byte, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

func (machine) readSysctl(key string) (string, error) {
	b, err := os.ReadFile(filepath.Join("/proc/sys", key))
	if err != nil {
		return "", fmt.Errorf("sysctl %s: %w", strings.ReplaceAll(key, "/", "."), err)
	}
	return strings.TrimSpace(string(b)), nil
}

func (machine) writeSysctl(key, value string) error {
	path := filepath.Join("/proc/sys", key)
	if old, err := os.ReadFile(path); err == nil && strings.TrimSpace(string(old)) == value {
		return nil
	}
	if err := os.WriteFile(path, []byte(value+"\n"), 0o644); err != nil {
		return fmt.Errorf("sysctl %s=%s: %w", strings.ReplaceAll(key, "/", "."), value, err)
	}
	return nil
}

func (machine) linkExists(name string) bool {
	_, err := os.Stat(filepath.Join("/sys/class/net", name))
	return err == nil
}

func (m machine) chainExists(ctx context.Context, name string) bool {
	_, err := m.run(ctx, nil, "iptables", append(slices.Clone(iptablesWait), "-S", name)...)
	return err == nil
}

func (m machine) routeExists(ctx context.Context, r route) bool {
	out, err := m.run(ctx, nil, "ip", "route", "show", "exact", r.dst.String())
	if err != nil {
		return false
	}
	return strings.TrimSpace(out) != ""
}

func (machine) mounted(path string) bool {
	mounts, err := mountPoints()
	return err == nil && slices.Contains(mounts, filepath.Clean(path))
}

// mountPoints lists the mount points of this mount namespace, from
// /proc/self/mountinfo, whose fifth field is the mount point with spaces and
// other special characters octal-escaped.
func mountPoints() ([]string, error) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("mounts: %w", err)
	}
	var points []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 4 {
			points = append(points, unescapeMount(f[4]))
		}
	}
	return points, sc.Err()
}

// unescapeMount undoes the kernel's \ooo escapes in mountinfo paths.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) && isOctal(s[i+1:i+4]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := range 3 {
		if s[i] < '0' || s[i] > '7' {
			return false
		}
	}
	return true
}

// mountsUnder lists the mount points at or below dir, deepest first, the
// order they must be unmounted in.
func mountsUnder(points []string, dir string) []string {
	dir = filepath.Clean(dir)
	var under []string
	for _, p := range points {
		if p == dir || strings.HasPrefix(p, dir+"/") {
			under = append(under, p)
		}
	}
	slices.SortFunc(under, func(a, b string) int {
		if d := strings.Count(b, "/") - strings.Count(a, "/"); d != 0 {
			return d
		}
		return strings.Compare(b, a)
	})
	return slices.Compact(under)
}
