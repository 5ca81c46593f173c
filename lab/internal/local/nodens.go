package local

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// A node besides the first runs in a network namespace of its own: its
// containerd, kubelet and kube-proxy are started with `nsenter --net=FILE`
// (see daemon.command), so they share the host's mounts, cgroups and pids
// but have their own interfaces, routes, iptables rules and conntrack table.
// A veth pair joins the namespace to the host, which routes the node's pod
// range through it.
//
// The namespace is pinned on a file with `unshare --net=FILE`, not `ip netns
// add`, for the reason the outside client is (outside.go). Its processes are
// not started with `ip netns exec` either: that also unshares the mount
// namespace and remounts /sys, so the kubelet would find /sys/fs/cgroup empty
// and its volume mounts would be invisible to the host.
//
// The node has no default route: only routes to the other nodes, their pod
// ranges, the Service and LoadBalancer ranges and the outside client, all
// through the host, where the guards (network.go) stand. A packet of node B
// for any other address has nowhere to go.

// nodeSysctls are per network namespace, so a fresh one needs them again:
// forwarding for its pods, iptables for bridged traffic (kube-proxy's rules
// must see a pod calling a Service that lands on a pod of the same bridge),
// and no IPv6, so not even neighbour discovery leaves a link.
var nodeSysctls = []string{
	"net.ipv4.ip_forward=1",
	"net.bridge.bridge-nf-call-iptables=1",
	"net.ipv6.conf.all.disable_ipv6=1",
	"net.ipv6.conf.default.disable_ipv6=1",
}

// nodeRoutes are a namespaced node's only routes besides its own link and
// its own pods' bridge: every other node and its pods, the Service and
// LoadBalancer ranges (a process in the node needs a route for a ClusterIP
// so its packet reaches kube-proxy's NAT rules; ensureNodeFilter drops an
// address nobody rewrites) and the outside client, which the node's pods
// answer directly under externalTrafficPolicy Local. Last, the pod range is
// unreachable except what the routes above and the node's own bridge cover.
func nodeRoutes(c Cluster, n Node) []route {
	via, dev := n.HostIP.Addr(), n.PeerLink
	var rs []route
	for _, o := range c.Nodes {
		if o.Name == n.Name {
			continue
		}
		if !n.HostIP.Masked().Contains(o.IP) {
			rs = append(rs, route{dst: netip.PrefixFrom(o.IP, o.IP.BitLen()), via: via, dev: dev})
		}
		rs = append(rs, route{dst: o.PodCIDR, via: via, dev: dev})
	}
	return append(rs,
		route{dst: c.ServiceCIDR, via: via, dev: dev},
		route{dst: c.LBCIDR, via: via, dev: dev},
		route{dst: c.Outside.IP.Masked(), via: via, dev: dev},
		route{dst: c.PodCIDR, unreachable: true},
	)
}

// nodeCommands are the commands, run inside the node's namespace, that
// configure it: loopback up (the kubelet's and kube-proxy's health
// endpoints are on it), the veth end, the sysctls and the routes.
func nodeCommands(c Cluster, n Node) [][]string {
	bits := n.HostIP.Bits()
	cmds := [][]string{
		{"ip", "link", "set", "lo", "up"},
		{"ip", "link", "set", n.PeerLink, "addrgenmode", "none"},
		{"ip", "addr", "replace", netip.PrefixFrom(n.IP, bits).String(), "dev", n.PeerLink},
		{"ip", "link", "set", n.PeerLink, "up"},
		append([]string{"sysctl", "-q", "-w"}, nodeSysctls...),
	}
	for _, r := range nodeRoutes(c, n) {
		cmds = append(cmds, append([]string{"ip", "route", "replace"}, r.args()...))
	}
	return cmds
}

// inNamespace prefixes a command with nsenter into the namespace pinned on
// netns.
func inNamespace(netns string, cmd []string) (string, []string) {
	return "nsenter", append([]string{"--net=" + netns}, cmd...)
}

// nodeNamespace runs the host's commands inside a node's namespace.
type nodeNamespace struct {
	host  runner
	netns string
}

func (n nodeNamespace) run(ctx context.Context, stdin []byte, name string, args ...string) (string, error) {
	name, args = inNamespace(n.netns, append([]string{name}, args...))
	return n.host.run(ctx, stdin, name, args...)
}

// ensureNodeFilter puts unallocatedRules into a node's namespace: its pods'
// packets for a Service address are rewritten, or not, by its own
// kube-proxy, and remembered by its own conntrack table. The namespace goes
// with everything in it, so there is nothing to remove.
func ensureNodeFilter(ctx context.Context, h runner, c Cluster, n Node) error {
	ns := nodeNamespace{host: h, netns: n.NetNS}
	restore := []byte(restoreInput([]chain{unallocatedRules(c)}))
	if _, err := ns.run(ctx, restore, "iptables-restore", append(slices.Clone(iptablesWait), "--noflush")...); err != nil {
		return fmt.Errorf("node %s filter: %w", n.Name, err)
	}
	if err := placeJumps(ctx, ns, unallocatedJumps); err != nil {
		return fmt.Errorf("node %s filter: %w", n.Name, err)
	}
	return nil
}

// ensureNodeNamespace creates a node's namespace, veth pair, addresses,
// sysctls and routes, or leaves them as they are when they exist. The
// host's route to the node's pods is part of the network plan.
func ensureNodeNamespace(ctx context.Context, h host, c Cluster, n Node) error {
	if !h.mounted(n.NetNS) {
		if err := os.WriteFile(n.NetNS, nil, 0o644); err != nil {
			return fmt.Errorf("node %s namespace: %w", n.Name, err)
		}
		if _, err := h.run(ctx, nil, "unshare", "--net="+n.NetNS, "true"); err != nil {
			return fmt.Errorf("node %s namespace: %w", n.Name, err)
		}
		// A veth left from an earlier namespace leads nowhere; start over.
		if err := deleteLink(ctx, h, n.HostLink); err != nil {
			return err
		}
	}
	if !h.linkExists(n.HostLink) {
		// A netns argument with a '/' is a path to ip.
		if _, err := h.run(ctx, nil, "ip", "link", "add", n.HostLink, "type", "veth", "peer", "name", n.PeerLink, "netns", n.NetNS); err != nil {
			return fmt.Errorf("node %s veth: %w", n.Name, err)
		}
	}
	for _, args := range [][]string{
		{"link", "set", n.HostLink, "addrgenmode", "none"},
		{"addr", "replace", n.HostIP.String(), "dev", n.HostLink},
		{"link", "set", n.HostLink, "up"},
	} {
		if _, err := h.run(ctx, nil, "ip", args...); err != nil {
			return fmt.Errorf("node %s veth: %w", n.Name, err)
		}
	}
	for _, cmd := range nodeCommands(c, n) {
		name, args := inNamespace(n.NetNS, cmd)
		if _, err := h.run(ctx, nil, name, args...); err != nil {
			return fmt.Errorf("node %s: %w", n.Name, err)
		}
	}
	return ensureNodeFilter(ctx, h, c, n)
}

// removeNodeNamespace deletes the veth pair (both ends) and unpins the
// namespace; with its last process gone (the daemons are stopped first) the
// kernel frees it with everything in it: its cni0, kube-proxy's rules and
// its conntrack table.
func removeNodeNamespace(ctx context.Context, h host, n Node) error {
	errs := []error{deleteLink(ctx, h, n.HostLink)}
	if h.mounted(n.NetNS) {
		if _, err := h.run(ctx, nil, "umount", n.NetNS); err != nil {
			errs = append(errs, fmt.Errorf("node %s namespace: %w", n.Name, err))
		}
	}
	if err := os.Remove(n.NetNS); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, fmt.Errorf("node %s namespace: %w", n.Name, err))
	}
	return errors.Join(errs...)
}

// cgroupFS is where the machine mounts its cgroup hierarchies.
const cgroupFS = "/sys/fs/cgroup"

// ensureCgroupRoot creates a node's cgroupRoot in every cgroup v1 hierarchy
// (the kubelet refuses one that is missing in any) and gives its cpuset the
// root's CPUs and memory nodes, without which no child cgroup can hold a
// process. Nothing to do for the root itself.
func ensureCgroupRoot(base, root string) error {
	if root == "" || root == "/" {
		return nil
	}
	hierarchies, err := cgroupHierarchies(base)
	if err != nil {
		return err
	}
	for _, h := range hierarchies {
		if err := os.MkdirAll(filepath.Join(h, root), 0o755); err != nil {
			return fmt.Errorf("cgroup root %s: %w", root, err)
		}
	}
	for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
		src := filepath.Join(base, "cpuset", f)
		v, err := os.ReadFile(src)
		if errors.Is(err, os.ErrNotExist) {
			continue // no cpuset hierarchy (cgroup v2)
		}
		if err != nil {
			return fmt.Errorf("cgroup root %s: %w", root, err)
		}
		dst := filepath.Join(base, "cpuset", root, f)
		if old, err := os.ReadFile(dst); err == nil && strings.TrimSpace(string(old)) != "" {
			continue
		}
		if err := os.WriteFile(dst, v, 0o644); err != nil {
			return fmt.Errorf("cgroup root %s: %w", root, err)
		}
	}
	return nil
}

// removeCgroupRoot removes a node's cgroupRoot, after its kubepods tree,
// from every hierarchy, systemd's unified one included: runc makes the
// container cgroups there too, so the root appears there as well.
func removeCgroupRoot(base, root string) error {
	if root == "" || root == "/" {
		return nil
	}
	hierarchies, err := filepath.Glob(filepath.Join(base, "*"))
	if err != nil {
		return err
	}
	if fileExists(filepath.Join(base, "cgroup.controllers")) {
		hierarchies = []string{base}
	}
	var errs []error
	for _, h := range hierarchies {
		dir := filepath.Join(h, root)
		if err := os.Remove(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove cgroup %s: %w", dir, err))
		}
	}
	return errors.Join(errs...)
}

// cgroupHierarchies are the directories under base that hold a cgroup
// hierarchy a kubelet uses: every v1 controller, or the v2 root. "unified"
// on a v1 machine is systemd's and no kubelet's.
func cgroupHierarchies(base string) ([]string, error) {
	if fileExists(filepath.Join(base, "cgroup.controllers")) {
		return []string{base}, nil
	}
	entries, err := os.ReadDir(base)
	if err != nil {
		return nil, fmt.Errorf("cgroups: %w", err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && e.Name() != "unified" {
			out = append(out, filepath.Join(base, e.Name()))
		}
	}
	return out, nil
}
