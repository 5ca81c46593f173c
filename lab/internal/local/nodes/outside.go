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
// node IPs, the LoadBalancer range and the Service range. No default route,
// so it cannot even try to reach anything else.
func outsideRoutes(c cluster.Cluster) []host.Route {
	via := c.Outside.HostIP.Addr()
	var rs []host.Route
	for _, n := range c.Nodes {
		rs = append(rs, host.Route{Dst: netip.PrefixFrom(n.IP, n.IP.BitLen()), Via: via, Dev: c.Outside.PeerLink})
	}
	return append(rs,
		host.Route{Dst: c.LBCIDR, Via: via, Dev: c.Outside.PeerLink},
		host.Route{Dst: c.ServiceCIDR, Via: via, Dev: c.Outside.PeerLink},
	)
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
	return cmds
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

// RemoveOutside deletes the veth pair (both ends) and the namespace. A
// process still inside (a forgotten e2e client) keeps the namespace alive
// but no longer connected to anything.
func RemoveOutside(ctx context.Context, h host.Host, c cluster.Cluster) error {
	return outsidePinned(c.Outside).remove(ctx, h, "outside client namespace")
}

func outsidePinned(o cluster.Outside) pinned {
	return pinned{netns: o.NetNS, hostLink: o.HostLink, peerLink: o.PeerLink, hostIP: o.HostIP}
}
