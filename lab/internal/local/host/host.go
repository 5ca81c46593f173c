// Package host is the machine the local cluster runs on, as the lab changes
// it: the commands it runs, sysctls, links, routes, mounts and files. The
// network guards, the node and outside-client namespaces and the teardown
// all go through Host, so their tests replace it with a fake that records
// commands (package hosttest).
package host

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// Host is the machine, as far as the network guards, the outside client and
// the teardown need it.
type Host interface {
	Runner
	// ReadSysctl reads a /proc/sys path.
	ReadSysctl(key string) (string, error)
	// WriteSysctl writes a /proc/sys path, unless it has the value already.
	WriteSysctl(key, value string) error
	// LinkExists reports whether the network interface exists.
	LinkExists(name string) bool
	// ChainExists reports whether the filter table has the chain.
	ChainExists(ctx context.Context, name string) bool
	// RouteExists reports whether the main table has a route to r's
	// destination.
	RouteExists(ctx context.Context, r Route) bool
	// Mounted reports whether path is a mount point.
	Mounted(path string) bool
}

// Runner runs commands: the host does, in its own network namespace, and a
// node's namespace runner (package nodes) in the node's.
type Runner interface {
	// Run runs a command with stdin and returns its output; the error
	// carries the output too.
	Run(ctx context.Context, stdin []byte, name string, args ...string) (string, error)
}

// Machine is the real host.
type Machine struct{}

// Run runs the command; its error names the command and carries its output.
func (Machine) Run(ctx context.Context, stdin []byte, name string, args ...string) (string, error) {
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

// ReadSysctl reads /proc/sys/key.
func (Machine) ReadSysctl(key string) (string, error) {
	b, err := os.ReadFile(filepath.Join("/proc/sys", key))
	if err != nil {
		return "", fmt.Errorf("sysctl %s: %w", strings.ReplaceAll(key, "/", "."), err)
	}
	return strings.TrimSpace(string(b)), nil
}

// WriteSysctl writes /proc/sys/key, unless it holds value already.
func (Machine) WriteSysctl(key, value string) error {
	path := filepath.Join("/proc/sys", key)
	if old, err := os.ReadFile(path); err == nil && strings.TrimSpace(string(old)) == value {
		return nil
	}
	if err := os.WriteFile(path, []byte(value+"\n"), 0o644); err != nil {
		return fmt.Errorf("sysctl %s=%s: %w", strings.ReplaceAll(key, "/", "."), value, err)
	}
	return nil
}

// LinkExists looks the interface up in /sys/class/net.
func (Machine) LinkExists(name string) bool {
	_, err := os.Stat(filepath.Join("/sys/class/net", name))
	return err == nil
}

// ChainExists lists the chain with iptables.
func (m Machine) ChainExists(ctx context.Context, name string) bool {
	_, err := m.Run(ctx, nil, "iptables", IptablesWait("-S", name)...)
	return err == nil
}

// RouteExists asks ip for the route to r's destination.
func (m Machine) RouteExists(ctx context.Context, r Route) bool {
	out, err := m.Run(ctx, nil, "ip", "route", "show", "exact", r.Dst.String())
	if err != nil {
		return false
	}
	return strings.TrimSpace(out) != ""
}

// Mounted looks path up in this mount namespace's mount table.
func (Machine) Mounted(path string) bool {
	mounts, err := mountPoints()
	return err == nil && slices.Contains(mounts, filepath.Clean(path))
}

// Route is one route in a main routing table: the host's, a node's or the
// outside client's.
type Route struct {
	Dst         netip.Prefix
	Dev         string
	Via         netip.Addr
	Unreachable bool
}

// Args are the arguments of `ip route replace|del`.
func (r Route) Args() []string {
	if r.Unreachable {
		return []string{"unreachable", r.Dst.String()}
	}
	args := []string{r.Dst.String()}
	if r.Via.IsValid() {
		args = append(args, "via", r.Via.String())
	}
	return append(args, "dev", r.Dev)
}

// IptablesWait returns iptables arguments that wait for the xtables lock
// instead of failing while the kubelet or kube-proxy holds it.
func IptablesWait(args ...string) []string {
	return append([]string{"-w", "10"}, args...)
}

// DeleteLink deletes a network interface, and with a veth its peer; a link
// that is gone already is not an error.
func DeleteLink(ctx context.Context, h Host, name string) error {
	if !h.LinkExists(name) {
		return nil
	}
	if _, err := h.Run(ctx, nil, "ip", "link", "del", name); err != nil {
		return fmt.Errorf("remove link %s: %w", name, err)
	}
	return nil
}
