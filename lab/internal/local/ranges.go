package local

import (
	"fmt"
	"slices"

	"github.com/podpaths/podpaths/lab/internal/local/cluster"
	"github.com/podpaths/podpaths/lab/internal/local/host"
)

// checkRanges refuses a cluster whose ranges overlap a network this machine
// is already on: routing a Service or pod range to the lab would cut this
// machine off from that network (on an AWS default VPC, 172.31.0.2 is the
// DNS resolver). What is on the lab's own interfaces, or unreachable (the
// lab's route for the pod range), is the lab's from an earlier `up`.
func checkRanges(c cluster.Cluster, nets []host.Network) error {
	ours := []string{c.SinkBridge, c.Outside.HostLink, "*"}
	for _, n := range c.Nodes {
		ours = append(ours, n.Bridge, n.HostLink)
	}
	for _, r := range c.Ranges() {
		for _, n := range nets {
			if slices.Contains(ours, n.Dev) || n.Dev == "lo" || !n.Prefix.Overlaps(r.Prefix) {
				continue
			}
			return fmt.Errorf("the lab's %s %s overlaps %s on %s, a network this machine is on; %s",
				r.Name, r.Prefix, n.Prefix, n.Dev, moveHint(c, r))
		}
	}
	return nil
}

// moveHint says how to get past a range that overlaps: the link ranges can
// move (cluster.LinkRanges), the others are in the manifests too.
func moveHint(c cluster.Cluster, r cluster.Range) string {
	switch r.Prefix {
	case c.Outside.IP.Masked():
		return "move it with make local-up LOCAL_OUTSIDE_RANGE=<a free /30> (" + OutsideRangeEnv + ")"
	case c.NodeLinkCIDR:
		return "move it with make local-up LOCAL_NODE_LINK_RANGE=<a free /30 or larger> (" + NodeLinkRangeEnv + ")"
	}
	return "bring the lab up on a machine without it"
}
