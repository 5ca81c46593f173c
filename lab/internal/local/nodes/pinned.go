package nodes

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"

	"github.com/podpaths/podpaths/lab/internal/local/host"
)

// pinned is a network namespace pinned on a file and joined to the host by a
// veth pair: a namespaced node's, or the outside client's. Both are made
// and removed the same way.
type pinned struct {
	// netns is the file the namespace is pinned on.
	netns string
	// hostLink and peerLink are the veth ends on the host and inside.
	hostLink, peerLink string
	// hostIP is the host end's address.
	hostIP netip.Prefix
}

// ensureVeth creates the veth pair unless it exists, and configures the host
// end: no IPv6 link-local address (so not even neighbour discovery), its
// address, up.
func (p pinned) ensureVeth(ctx context.Context, h host.Host) error {
	if !h.LinkExists(p.hostLink) {
		// A netns argument with a '/' is a path to ip.
		if _, err := h.Run(ctx, nil, "ip", "link", "add", p.hostLink, "type", "veth", "peer", "name", p.peerLink, "netns", p.netns); err != nil {
			return err
		}
	}
	for _, args := range [][]string{
		{"link", "set", p.hostLink, "addrgenmode", "none"},
		{"addr", "replace", p.hostIP.String(), "dev", p.hostLink},
		{"link", "set", p.hostLink, "up"},
	} {
		if _, err := h.Run(ctx, nil, "ip", args...); err != nil {
			return err
		}
	}
	return nil
}

// remove deletes the veth pair (both ends) and unpins the namespace; what
// names the namespace in errors. Every step is tried.
func (p pinned) remove(ctx context.Context, h host.Host, what string) error {
	errs := []error{host.DeleteLink(ctx, h, p.hostLink)}
	if h.Mounted(p.netns) {
		if _, err := h.Run(ctx, nil, "umount", p.netns); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", what, err))
		}
	}
	if err := os.Remove(p.netns); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, fmt.Errorf("%s: %w", what, err))
	}
	return errors.Join(errs...)
}
