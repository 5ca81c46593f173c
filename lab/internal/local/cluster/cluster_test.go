package cluster_test

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"

	"github.com/podpaths/podpaths/lab/facts"
	"github.com/podpaths/podpaths/lab/internal/local/cluster"
	"github.com/podpaths/podpaths/lab/internal/local/cluster/clustertest"
)

func TestNewClusterMatchesTheContract(t *testing.T) {
	t.Parallel()
	c := clustertest.New(t)
	checks := map[string][2]string{
		"service range":     {c.ServiceCIDR.String(), "10.96.0.0/16"},
		"kubernetes IP":     {c.APIServerIP().String(), "10.96.0.1"},
		"kube-dns IP":       {c.DNSIP.String(), "10.96.0.10"},
		"pod range":         {c.PodCIDR.String(), "10.244.0.0/16"},
		"node A pod range":  {c.Nodes[0].PodCIDR.String(), "10.244.0.0/24"},
		"node A gateway":    {c.Nodes[0].GatewayIP().String(), "10.244.0.1"},
		"LB range":          {c.LBCIDR.String(), "10.97.0.0/24"},
		"outside client":    {c.Outside.IP.String(), "172.31.0.2/30"},
		"host end":          {c.Outside.HostIP.String(), "172.31.0.1/30"},
		"API server URL":    {c.APIServerURL(), "https://192.0.2.2:6443"},
		"node name":         {c.Nodes[0].Name, "podpaths-a"},
		"outside namespace": {c.Outside.NetNS, c.StateDir + "/outside.netns"},
	}
	for what, gw := range checks {
		if gw[0] != gw[1] {
			t.Errorf("%s: got %s, want %s", what, gw[0], gw[1])
		}
	}
}

func TestValidateRejectsClashingRanges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*cluster.Cluster)
		want   string
	}{
		{"LB inside services", func(c *cluster.Cluster) { c.LBCIDR = netip.MustParsePrefix("10.96.1.0/24") }, "overlaps"},
		{"DNS outside services", func(c *cluster.Cluster) { c.DNSIP = netip.MustParseAddr("10.97.0.10") }, "outside the Service range"},
		{"node range outside pods", func(c *cluster.Cluster) { c.Nodes[0].PodCIDR = netip.MustParsePrefix("10.245.0.0/24") }, "not inside"},
		{"node IP in pod range", func(c *cluster.Cluster) { c.Nodes[0].IP = netip.MustParseAddr("10.244.3.3") }, "inside the pod range"},
		{"no node IP", func(c *cluster.Cluster) { c.Nodes[0].IP = netip.Addr{} }, "has no IP"},
		{"two nodes one range", func(c *cluster.Cluster) { c.Nodes = append(c.Nodes, c.Nodes[0]) }, "overlapping pod ranges"},
		{"no nodes", func(c *cluster.Cluster) { c.Nodes = nil }, "no nodes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := cluster.New("podpaths", netip.MustParseAddr(clustertest.NodeIP), "/state")
			tt.change(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate: got %v, want an error with %q", err, tt.want)
			}
		})
	}
}

func TestFactsForTheE2ESuite(t *testing.T) {
	t.Parallel()
	c := clustertest.New(t)
	raw, err := facts.Marshal(c.Facts("/state/admin.kubeconfig"))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("cluster.json is not JSON: %v\n%s", err, raw)
	}
	want := map[string]any{
		"nodeName": "podpaths-a", "nodeIP": "192.0.2.2", "kubeconfig": "/state/admin.kubeconfig",
		"serviceCIDR": "10.96.0.0/16", "podCIDR": "10.244.0.0/16", "loadBalancerCIDR": "10.97.0.0/24",
		"dnsIP": "10.96.0.10", "clusterDomain": "cluster.local",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("cluster.json %s: got %v, want %v", k, got[k], v)
		}
	}
	outside, _ := got["outside"].(map[string]any)
	if outside["ip"] != "172.31.0.2" || outside["netns"] != c.Outside.NetNS {
		t.Errorf("cluster.json outside: got %v, want ip 172.31.0.2 and netns %s", outside, c.Outside.NetNS)
	}
	nodes, _ := got["nodes"].([]any)
	if len(nodes) != 1 {
		t.Fatalf("cluster.json nodes: got %v, want one", got["nodes"])
	}
	if n := nodes[0].(map[string]any); n["podCIDR"] != "10.244.0.0/24" {
		t.Errorf("cluster.json node pod range: got %v, want 10.244.0.0/24", n["podCIDR"])
	}
}

func TestNodeBMatchesTheDesign(t *testing.T) {
	t.Parallel()
	c := clustertest.TwoNodes(t)
	if len(c.Nodes) != 2 || len(c.Namespaced()) != 1 {
		t.Fatalf("two nodes, one namespaced: got %d nodes, %d namespaced", len(c.Nodes), len(c.Namespaced()))
	}
	b := c.Nodes[1]
	checks := map[string][2]string{
		"name":        {b.Name, "podpaths-b"},
		"IP":          {b.IP.String(), "172.30.0.2"},
		"host end":    {b.HostIP.String(), "172.30.0.1/30"},
		"pod range":   {b.PodCIDR.String(), "10.244.1.0/24"},
		"gateway":     {b.GatewayIP().String(), "10.244.1.1"},
		"host link":   {b.HostLink, "podpaths-b"},
		"cgroup root": {b.CgroupRoot, "/podpaths-b"},
		"namespace":   {b.NetNS, c.StateDir + "/podpaths-b.netns"},
	}
	for what, gw := range checks {
		if gw[0] != gw[1] {
			t.Errorf("node B %s: got %s, want %s", what, gw[0], gw[1])
		}
	}
	if c.Nodes[0].NetNS != "" || c.Nodes[0].CgroupRoot != "" {
		t.Errorf("node A must stay the host: %+v", c.Nodes[0])
	}
	one, err := c.WithNodes(1)
	if err != nil || len(one.Nodes) != 1 || len(c.Nodes) != 2 {
		t.Errorf("WithNodes(1): %d nodes, %v; the original must keep its 2 (has %d)", len(one.Nodes), err, len(c.Nodes))
	}
	for _, n := range []int{0, cluster.MaxNodes + 1} {
		if _, err := c.WithNodes(n); err == nil {
			t.Errorf("WithNodes(%d): no error", n)
		}
	}
}

func TestValidateRejectsABadNodeLink(t *testing.T) {
	t.Parallel()
	// The outside client's host end: a range node B's link is not in.
	outsideHostIP := netip.MustParsePrefix("172.31.0.1/30")
	tests := []struct {
		name   string
		change func(*cluster.Node)
		want   string
	}{
		{"no veth", func(n *cluster.Node) { n.PeerLink = "" }, "no veth pair"},
		{"ends in two ranges", func(n *cluster.Node) { n.HostIP = outsideHostIP }, "not two addresses of one range"},
		{"shared cgroup root", func(n *cluster.Node) { n.CgroupRoot = "" }, "cgroup root"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := clustertest.TwoNodes(t)
			tt.change(&c.Nodes[1])
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate: got %v, want an error with %q", err, tt.want)
			}
		})
	}
}
