package nodes

import (
	"context"
	"fmt"
	"net/netip"
	"os"

	"github.com/podpaths/podpaths/lab/internal/local/cluster"
	"github.com/podpaths/podpaths/lab/internal/local/host"
)

// The outside client is a network namespace joined to the host by a veth
// pair: a machine of its own as far as the network goes. From it, a NodePort
// or LoadBalancer call arrives at the node from another address, as it would
// from a user's laptop, which is what externalTrafficPolicy is about. The e2e
// suite runs `nsenter --net=<file> <command>` to be it.
//
// It is pinned on a file with `unshare --net=FILE`, not `ip netns add`: the
// first `ip netns add` on a machine bind-mounts /run/netns onto itself, which
// hides the /run/netns/cni-* namespaces containerd already made for pods, and
// those then leak at teardown.

// outsideRoutes are the outside client's only routes, all via the host: the
// node IPs and the LoadBalancer range, what a laptop on the nodes' network
// reaches. No route to the Service range: ClusterIPs are the cluster's own
// (`make check` shows the call failing), and no default route, so it cannot
// even try to reach anything else.
func outsideRoutes(c cluster.Cluster) []host.Route {
	via := c.Outside.HostIP.Addr()
	var rs []host.Route
	for _, n := range c.Nodes {
		rs = append(rs, host.Route{Dst: netip.PrefixFrom(n.IP, n.IP.BitLen()), Via: via, Dev: c.Outside.PeerLink})
	}
	return append(rs, host.Route{Dst: c.LBCIDR, Via: via, Dev: c.Outside.PeerLink})
}

// outsideCommands are the `ip` commands, run inside the namespace, that
// configure its end of the veth pair and its routes.
func outsideCommands(c cluster.Cluster) [][]string {
	o := c.Outside
	cmds := [][]string{
		{"link", "set", "lo", "up"},
		{"link", "set", o.PeerLink, "addrgenmode", "none"},
		{"addr", "replace", o.IP.String(), "dev", o.PeerLink},
		{"link", "set", o.PeerLink, "up"},
	}
	for _, r := range outsideRoutes(c) {
		cmds = append(cmds, append([]string{"route", "replace"}, r.Args()...))
	}
	// A route to the Service range that a workshop exercise added (or an
	// older lab) is taken away.
	return append(cmds, serviceRouteCommand(c, false))
}

// EnsureOutside creates the namespace, the veth pair and the addresses and
// routes, or leaves them as they are when they exist.
func EnsureOutside(ctx context.Context, h host.Host, c cluster.Cluster) error {
	o := c.Outside
	fresh := false
	if !h.Mounted(o.NetNS) {
		if err := os.WriteFile(o.NetNS, nil, 0o644); err != nil {
			return fmt.Errorf("outside client: %w", err)
		}
		if _, err := h.Run(ctx, nil, "unshare", "--net="+o.NetNS, "true"); err != nil {
			return fmt.Errorf("outside client namespace: %w", err)
		}
		fresh = true
	}
	if fresh {
		// A veth left from an earlier namespace has its peer in a namespace
		// that is gone; start over.
		if err := host.DeleteLink(ctx, h, o.HostLink); err != nil {
			return err
		}
	}
	if err := outsidePinned(o).ensureVeth(ctx, h); err != nil {
		return fmt.Errorf("outside client veth: %w", err)
	}
	for _, args := range outsideCommands(c) {
		if _, err := h.Run(ctx, nil, "nsenter", append([]string{"--net=" + o.NetNS, "ip"}, args...)...); err != nil {
			return fmt.Errorf("outside client: %w", err)
		}
	}
	return nil
}

// serviceRouteCommand gives the outside client a route to the Service range
// through the host (node A), or takes it away; taking away a route that is
// not there is no error.
func serviceRouteCommand(c cluster.Cluster, add bool) []string {
	if add {
		return append([]string{"route", "replace"},
			host.Route{Dst: c.ServiceCIDR, Via: c.Outside.HostIP.Addr(), Dev: c.Outside.PeerLink}.Args()...)
	}
	return []string{"route", "flush", "exact", c.ServiceCIDR.String()}
}

// RouteServices runs serviceRouteCommand in the outside client: with the
// route, a ClusterIP answers from outside the cluster, because node A's
// kube-proxy rewrites a packet to it wherever the packet came from.
func RouteServices(ctx context.Context, h host.Host, c cluster.Cluster, add bool) error {
	args := append([]string{"--net=" + c.Outside.NetNS, "ip"}, serviceRouteCommand(c, add)...)
	if _, err := h.Run(ctx, nil, "nsenter", args...); err != nil {
		return fmt.Errorf("outside client route to %s: %w", c.ServiceCIDR, err)
	}
	return nil
}

// RemoveOutside deletes the veth pair (both ends) and the namespace. A
// process still inside (a forgotten e2e client) keeps the namespace alive
// but no longer connected to anything.
func RemoveOutside(ctx context.Context, h host.Host, c cluster.Cluster) error {
	return outsidePinned(c.Outside).remove(ctx, h, "outside client namespace")
}

func outsidePinned(o cluster.Outside) pinned {
	return pinned{netns: o.NetNS, hostLink: o.HostLink, peerLink: o.PeerLink, hostIP: o.HostIP}
}
