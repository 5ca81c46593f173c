package local

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
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
func outsideRoutes(c Cluster) []route {
	via := c.Outside.HostIP.Addr()
	var rs []route
	for _, n := range c.Nodes {
		rs = append(rs, route{dst: netip.PrefixFrom(n.IP, n.IP.BitLen()), via: via, dev: c.Outside.PeerLink})
	}
	return append(rs,
		route{dst: c.LBCIDR, via: via, dev: c.Outside.PeerLink},
		route{dst: c.ServiceCIDR, via: via, dev: c.Outside.PeerLink},
	)
}

// outsideCommands are the `ip` commands, run inside the namespace, that
// configure its end of the veth pair and its routes.
func outsideCommands(c Cluster) [][]string {
	o := c.Outside
	cmds := [][]string{
		{"link", "set", "lo", "up"},
		{"link", "set", o.PeerLink, "addrgenmode", "none"},
		{"addr", "replace", o.IP.String(), "dev", o.PeerLink},
		{"link", "set", o.PeerLink, "up"},
	}
	for _, r := range outsideRoutes(c) {
		cmds = append(cmds, append([]string{"route", "replace"}, r.args()...))
	}
	return cmds
}

// ensureOutside creates the namespace, the veth pair and the addresses and
// routes, or leaves them as they are when they exist.
func ensureOutside(ctx context.Context, h host, c Cluster) error {
	o := c.Outside
	fresh := false
	if !h.mounted(o.NetNS) {
		if err := os.WriteFile(o.NetNS, nil, 0o644); err != nil {
			return fmt.Errorf("outside client: %w", err)
		}
		if _, err := h.run(ctx, nil, "unshare", "--net="+o.NetNS, "true"); err != nil {
			return fmt.Errorf("outside client namespace: %w", err)
		}
		fresh = true
	}
	if fresh {
		// A veth left from an earlier namespace has its peer in a namespace
		// that is gone; start over.
		if err := deleteLink(ctx, h, o.HostLink); err != nil {
			return err
		}
	}
	if !h.linkExists(o.HostLink) {
		// A netns argument with a '/' is a path to ip.
		if _, err := h.run(ctx, nil, "ip", "link", "add", o.HostLink, "type", "veth", "peer", "name", o.PeerLink, "netns", o.NetNS); err != nil {
			return fmt.Errorf("outside client veth: %w", err)
		}
	}
	for _, args := range [][]string{
		{"link", "set", o.HostLink, "addrgenmode", "none"},
		{"addr", "replace", o.HostIP.String(), "dev", o.HostLink},
		{"link", "set", o.HostLink, "up"},
	} {
		if _, err := h.run(ctx, nil, "ip", args...); err != nil {
			return fmt.Errorf("outside client veth: %w", err)
		}
	}
	for _, args := range outsideCommands(c) {
		if _, err := h.run(ctx, nil, "nsenter", append([]string{"--net=" + o.NetNS, "ip"}, args...)...); err != nil {
			return fmt.Errorf("outside client: %w", err)
		}
	}
	return nil
}

// removeOutside deletes the veth pair (both ends) and the namespace. A
// process still inside (a forgotten e2e client) keeps the namespace alive
// but no longer connected to anything.
func removeOutside(ctx context.Context, h host, c Cluster) error {
	o := c.Outside
	errs := []error{deleteLink(ctx, h, o.HostLink)}
	if h.mounted(o.NetNS) {
		if _, err := h.run(ctx, nil, "umount", o.NetNS); err != nil {
			errs = append(errs, fmt.Errorf("outside client namespace: %w", err))
		}
	}
	if err := os.Remove(o.NetNS); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, fmt.Errorf("outside client namespace: %w", err))
	}
	return errors.Join(errs...)
}
