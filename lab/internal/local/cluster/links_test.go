package cluster_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/podpaths/podpaths/lab/internal/local/cluster"
	"github.com/podpaths/podpaths/lab/internal/local/cluster/clustertest"
)

func TestLinkRangesMoveTheLinks(t *testing.T) {
	t.Parallel()
	r := cluster.LinkRanges{Outside: netip.MustParsePrefix("192.168.77.8/29"), NodeLinks: netip.MustParsePrefix("192.168.78.0/28")}
	one, err := clustertest.New(t).WithLinkRanges(r)
	if err != nil {
		t.Fatal(err)
	}
	c, err := one.WithNodes(2)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("a cluster with moved links is invalid: %v", err)
	}
	checks := map[string][2]string{
		"outside client": {c.Outside.IP.String(), "192.168.77.10/29"},
		"its host end":   {c.Outside.HostIP.String(), "192.168.77.9/29"},
		"node B":         {c.Nodes[1].IP.String(), "192.168.78.2"},
		"node B's host":  {c.Nodes[1].HostIP.String(), "192.168.78.1/30"},
		"node A":         {c.Nodes[0].IP.String(), clustertest.NodeIP},
	}
	for what, gw := range checks {
		if gw[0] != gw[1] {
			t.Errorf("%s: got %s, want %s", what, gw[0], gw[1])
		}
	}
	if got := c.LinkRanges(); got != r {
		t.Errorf("LinkRanges() = %+v, want %+v", got, r)
	}
	if got := clustertest.New(t).LinkRanges(); got != cluster.DefaultLinkRanges() {
		t.Errorf("the default cluster's LinkRanges() = %+v, want the defaults %+v", got, cluster.DefaultLinkRanges())
	}
}

func TestLinkRangesThatCannotWork(t *testing.T) {
	t.Parallel()
	good := cluster.DefaultLinkRanges()
	for _, tc := range []struct {
		outside, links, want string
	}{
		{"fd00::/64", good.NodeLinks.String(), "not an IPv4 range"},
		{"172.29.0.1/30", good.NodeLinks.String(), "does not start at its network address (172.29.0.0/30)"},
		{good.Outside.String(), "172.29.0.0/31", "smaller than a /30"},
	} {
		r := cluster.LinkRanges{Outside: netip.MustParsePrefix(tc.outside), NodeLinks: netip.MustParsePrefix(tc.links)}
		if _, err := clustertest.New(t).WithLinkRanges(r); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("WithLinkRanges(%+v): %v; want an error saying %q", r, err, tc.want)
		}
	}
	// A range that fits but overlaps another of the cluster's: Validate says so.
	r := cluster.LinkRanges{Outside: netip.MustParsePrefix("10.244.9.0/30"), NodeLinks: good.NodeLinks}
	c, err := clustertest.New(t).WithLinkRanges(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "overlaps") {
		t.Errorf("outside range inside the pod range: Validate() = %v; want an overlap", err)
	}
}
