// Package nodes makes the places the cluster's nodes and its outside client
// live in, besides the host itself: for node B (and any further node) a
// network namespace joined to the host by a veth pair, and a cgroup root of
// its own; for the outside client a network namespace of its own. Each
// namespace has no default route, so whatever runs in it reaches the
// cluster, through the host and its guards (package guards), and nothing
// else.
package nodes

import (
	"context"
	"fmt"
	"net/netip"
	"os"

	"github.com/podpaths/podpaths/lab/internal/local/cluster"
	"github.com/podpaths/podpaths/lab/internal/local/guards"
	"github.com/podpaths/podpaths/lab/internal/local/host"
)

// A node besides the first runs in a network namespace of its own: its
// containerd, kubelet and kube-proxy are started with `nsenter --net=FILE`
// (see package daemons), so they share the host's mounts, cgroups and pids
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
// through the host, where the guards (package guards) stand. A packet of
// node B for any other address has nowhere to go.

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
// so its packet reaches kube-proxy's NAT rules; the node's own filter drops
// an address nobody rewrites) and the outside client, which the node's pods
// answer directly under externalTrafficPolicy Local. Last, the pod range is
// unreachable except what the routes above and the node's own bridge cover.
func nodeRoutes(c cluster.Cluster, n cluster.Node) []host.Route {
	via, dev := n.HostIP.Addr(), n.PeerLink
	var rs []host.Route
	for _, o := range c.Nodes {
		if o.Name == n.Name {
			continue
		}
		if !n.HostIP.Masked().Contains(o.IP) {
			rs = append(rs, host.Route{Dst: netip.PrefixFrom(o.IP, o.IP.BitLen()), Via: via, Dev: dev})
		}
		rs = append(rs, host.Route{Dst: o.PodCIDR, Via: via, Dev: dev})
	}
	return append(rs,
		host.Route{Dst: c.ServiceCIDR, Via: via, Dev: dev},
		host.Route{Dst: c.LBCIDR, Via: via, Dev: dev},
		host.Route{Dst: c.Outside.IP.Masked(), Via: via, Dev: dev},
		host.Route{Dst: c.PodCIDR, Unreachable: true},
	)
}

// nodeCommands are the commands, run inside the node's namespace, that
// configure it: loopback up (the kubelet's and kube-proxy's health
// endpoints are on it), the veth end, the sysctls and the routes.
func nodeCommands(c cluster.Cluster, n cluster.Node) [][]string {
	bits := n.HostIP.Bits()
	cmds := [][]string{
		{"ip", "link", "set", "lo", "up"},
		{"ip", "link", "set", n.PeerLink, "addrgenmode", "none"},
		{"ip", "addr", "replace", netip.PrefixFrom(n.IP, bits).String(), "dev", n.PeerLink},
		{"ip", "link", "set", n.PeerLink, "up"},
		append([]string{"sysctl", "-q", "-w"}, nodeSysctls...),
	}
	for _, r := range nodeRoutes(c, n) {
		cmds = append(cmds, append([]string{"ip", "route", "replace"}, r.Args()...))
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
	host  host.Runner
	netns string
}

// Run runs the command under nsenter, in the node's namespace.
func (n nodeNamespace) Run(ctx context.Context, stdin []byte, name string, args ...string) (string, error) {
	name, args = inNamespace(n.netns, append([]string{name}, args...))
	return n.host.Run(ctx, stdin, name, args...)
}

// EnsureNamespace creates a node's namespace, veth pair, addresses,
// sysctls, routes and its own filter of unallocated Service addresses, or
// leaves them as they are when they exist. The host's route to the node's
// pods is part of the guards' plan.
func EnsureNamespace(ctx context.Context, h host.Host, c cluster.Cluster, n cluster.Node) error {
	if !h.Mounted(n.NetNS) {
		if err := os.WriteFile(n.NetNS, nil, 0o644); err != nil {
			return fmt.Errorf("node %s namespace: %w", n.Name, err)
		}
		if _, err := h.Run(ctx, nil, "unshare", "--net="+n.NetNS, "true"); err != nil {
			return fmt.Errorf("node %s namespace: %w", n.Name, err)
		}
		// A veth left from an earlier namespace leads nowhere; start over.
		if err := host.DeleteLink(ctx, h, n.HostLink); err != nil {
			return err
		}
	}
	if err := nodePinned(n).ensureVeth(ctx, h); err != nil {
		return fmt.Errorf("node %s veth: %w", n.Name, err)
	}
	for _, cmd := range nodeCommands(c, n) {
		name, args := inNamespace(n.NetNS, cmd)
		if _, err := h.Run(ctx, nil, name, args...); err != nil {
			return fmt.Errorf("node %s: %w", n.Name, err)
		}
	}
	if err := guards.ApplyInNode(ctx, nodeNamespace{host: h, netns: n.NetNS}, c); err != nil {
		return fmt.Errorf("node %s filter: %w", n.Name, err)
	}
	return nil
}

// RemoveNamespace deletes the veth pair (both ends) and unpins the
// namespace; with its last process gone (the daemons are stopped first) the
// kernel frees it with everything in it: its cni0, kube-proxy's rules and
// its conntrack table.
func RemoveNamespace(ctx context.Context, h host.Host, n cluster.Node) error {
	return nodePinned(n).remove(ctx, h, "node "+n.Name+" namespace")
}

func nodePinned(n cluster.Node) pinned {
	return pinned{netns: n.NetNS, hostLink: n.HostLink, peerLink: n.PeerLink, hostIP: n.HostIP}
}
