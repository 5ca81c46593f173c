package local

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
)

var testNodeIP = netip.MustParseAddr("192.0.2.2")

func testCluster(t *testing.T) Cluster {
	t.Helper()
	c := NewCluster("podpaths", testNodeIP, t.TempDir())
	if err := c.Validate(); err != nil {
		t.Fatalf("default cluster is invalid: %v", err)
	}
	return c
}

// testTwoNodes is the default two-node cluster.
func testTwoNodes(t *testing.T) Cluster {
	t.Helper()
	c, err := testCluster(t).WithNodes(2)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("two-node cluster is invalid: %v", err)
	}
	return c
}

func TestNewClusterMatchesTheContract(t *testing.T) {
	t.Parallel()
	c := testCluster(t)
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
		change func(*Cluster)
		want   string
	}{
		{"LB inside services", func(c *Cluster) { c.LBCIDR = netip.MustParsePrefix("10.96.1.0/24") }, "overlaps"},
		{"DNS outside services", func(c *Cluster) { c.DNSIP = netip.MustParseAddr("10.97.0.10") }, "outside the Service range"},
		{"node range outside pods", func(c *Cluster) { c.Nodes[0].PodCIDR = netip.MustParsePrefix("10.245.0.0/24") }, "not inside"},
		{"node IP in pod range", func(c *Cluster) { c.Nodes[0].IP = netip.MustParseAddr("10.244.3.3") }, "inside the pod range"},
		{"no node IP", func(c *Cluster) { c.Nodes[0].IP = netip.Addr{} }, "has no IP"},
		{"two nodes one range", func(c *Cluster) { c.Nodes = append(c.Nodes, c.Nodes[0]) }, "overlapping pod ranges"},
		{"no nodes", func(c *Cluster) { c.Nodes = nil }, "no nodes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := NewCluster("podpaths", testNodeIP, "/state")
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
	c := testCluster(t)
	raw, err := MarshalFacts(c.Facts("/state/admin.kubeconfig"))
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

func TestDefaultRouteInterface(t *testing.T) {
	t.Parallel()
	table := `Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT
docker0	000011AC	00000000	0001	0	0	0	0000FFFF	0	0	0
eth0	00000000	010200C0	0003	0	0	0	00000000	0	0	0
eth0	000200C0	00000000	0001	0	0	0	00FFFFFF	0	0	0
`
	got, err := defaultRouteInterface(table)
	if err != nil || got != "eth0" {
		t.Errorf("defaultRouteInterface: got %q, %v; want eth0", got, err)
	}
	if _, err := defaultRouteInterface(strings.Split(table, "\n")[0] + "\n"); err == nil {
		t.Error("a table without a default route: got no error")
	}
}
