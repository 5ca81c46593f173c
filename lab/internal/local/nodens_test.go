package local

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestNodeBMatchesTheDesign(t *testing.T) {
	t.Parallel()
	c := testTwoNodes(t)
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
	for _, n := range []int{0, MaxNodes + 1} {
		if _, err := c.WithNodes(n); err == nil {
			t.Errorf("WithNodes(%d): no error", n)
		}
	}
}

func TestValidateRejectsABadNodeLink(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*Node)
		want   string
	}{
		{"no veth", func(n *Node) { n.PeerLink = "" }, "no veth pair"},
		{"ends in two ranges", func(n *Node) { n.HostIP = outsideHostIP }, "not two addresses of one range"},
		{"shared cgroup root", func(n *Node) { n.CgroupRoot = "" }, "cgroup root"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := testTwoNodes(t)
			tt.change(&c.Nodes[1])
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate: got %v, want an error with %q", err, tt.want)
			}
		})
	}
}

func TestNodeBHasNoDefaultRoute(t *testing.T) {
	t.Parallel()
	c := testTwoNodes(t)
	var got []string
	for _, r := range nodeRoutes(c, c.Nodes[1]) {
		got = append(got, strings.Join(r.args(), " "))
	}
	want := []string{
		"192.0.2.2/32 via 172.30.0.1 dev eth0", "10.244.0.0/24 via 172.30.0.1 dev eth0",
		"10.96.0.0/16 via 172.30.0.1 dev eth0", "10.97.0.0/24 via 172.30.0.1 dev eth0",
		"172.31.0.0/30 via 172.30.0.1 dev eth0", "unreachable 10.244.0.0/16",
	}
	if !slices.Equal(got, want) {
		t.Errorf("node B routes:\n got %q\nwant %q", got, want)
	}
	for _, cmd := range nodeCommands(c, c.Nodes[1]) {
		if slices.Contains(cmd, "default") || slices.Contains(cmd, "0.0.0.0/0") {
			t.Errorf("node B gets a default route: %v", cmd)
		}
	}
	cmds := nodeCommands(c, c.Nodes[1])
	if !slices.ContainsFunc(cmds, func(c []string) bool { return strings.Join(c, " ") == "ip link set lo up" }) {
		t.Error("node B's loopback is not brought up")
	}
	sysctl := strings.Join(cmds[slices.IndexFunc(cmds, func(c []string) bool { return c[0] == "sysctl" })], " ")
	for _, want := range []string{"net.ipv4.ip_forward=1", "net.bridge.bridge-nf-call-iptables=1", "net.ipv6.conf.all.disable_ipv6=1"} {
		if !strings.Contains(sysctl, want) {
			t.Errorf("node B's sysctls lack %s: %s", want, sysctl)
		}
	}
}

func TestTwoNodePlanGuardsTheNodeLinks(t *testing.T) {
	t.Parallel()
	c := testTwoNodes(t)
	p := planNetwork(c)
	guard := rulesOf(p, guardChain)
	for _, want := range []string{
		"-o podpaths-b -m comment --comment podpaths: stays on this machine -j RETURN",
		"-d 172.30.0.0/24 -m comment --comment podpaths: cluster range never leaves -j DROP",
		"-s 172.30.0.0/24 -m comment --comment podpaths: cluster range never leaves -j DROP",
	} {
		if !slices.Contains(guard, want) {
			t.Errorf("guard lacks %q:\n%s", want, strings.Join(guard, "\n"))
		}
	}
	// Routes first, the link route after the namespace exists.
	if slices.ContainsFunc(p.routes, func(r route) bool { return r.dev == "podpaths-b" }) {
		t.Errorf("a route through node B's veth among the routes applied before it exists: %v", p.routes)
	}
	routes := podRoutes(c)
	for _, want := range []string{"172.30.0.0/24", "192.0.2.2/32", "172.31.0.0/30"} {
		if !slices.Contains(routes, want) {
			t.Errorf("pod routes %v lack %s: pods answer the host end of node B's link, node A and the outside client", routes, want)
		}
	}
	if slices.Contains(routes, "172.30.0.2/32") {
		t.Errorf("pod routes %v repeat node B inside the node link range", routes)
	}
	if single := podRoutes(testCluster(t)); slices.Contains(single, "172.30.0.0/24") {
		t.Errorf("a single node's pods get a route to the node links: %v", single)
	}
}

func TestNodeNamespaceLifecycle(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	c := testTwoNodes(t)
	b := c.Nodes[1]
	h := newFakeHost()
	if err := ensureNodeNamespace(ctx, h, c, b); err != nil {
		t.Fatal(err)
	}
	cmds := h.commands()
	joined := strings.Join(cmds, "\n")
	for _, want := range []string{
		"unshare --net=" + b.NetNS + " true",
		"ip link add podpaths-b type veth peer name eth0 netns " + b.NetNS,
		"ip addr replace 172.30.0.1/30 dev podpaths-b",
		"nsenter --net=" + b.NetNS + " ip addr replace 172.30.0.2/30 dev eth0",
		"nsenter --net=" + b.NetNS + " ip route replace unreachable 10.244.0.0/16",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("ensureNodeNamespace did not run %q:\n%s", want, joined)
		}
	}
	// Its own filter, last in FORWARD and OUTPUT, where kube-proxy's
	// prepended jumps leave it.
	ns := h.namespaces[b.NetNS]
	if ns == nil || !ns.owned[unallocatedChain] {
		t.Fatalf("node B's namespace has no %s chain:\n%s", unallocatedChain, joined)
	}
	for _, builtin := range []string{"FORWARD", "OUTPUT"} {
		if got := ns.chains[builtin]; !slices.Equal(got, []string{unallocatedChain}) {
			t.Errorf("node B's %s: %v, want the jump to %s", builtin, got, unallocatedChain)
		}
	}
	if len(h.chains["OUTPUT"]) != 0 {
		t.Errorf("node B's filter went into the host's OUTPUT: %v", h.chains["OUTPUT"])
	}
	if slices.ContainsFunc(cmds, func(c string) bool { return strings.Contains(c, "ip netns") }) {
		t.Errorf("ip netns used; it hides node A's pod namespaces:\n%s", joined)
	}
	if err := ensureNodeNamespace(ctx, h, c, b); err != nil {
		t.Fatal(err)
	}
	ns.chains["FORWARD"] = slices.Insert(ns.chains["FORWARD"], 0, "KUBE-FORWARD")
	if err := ensureNodeNamespace(ctx, h, c, b); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range h.commands() {
		if strings.HasPrefix(cmd, "unshare") || strings.Contains(cmd, "link add") || strings.Contains(cmd, "iptables -w 10 -A") {
			t.Errorf("second ensureNodeNamespace recreated: %s", cmd)
		}
	}
	if got := ns.chains["FORWARD"]; !slices.Equal(got, []string{"KUBE-FORWARD", unallocatedChain}) {
		t.Errorf("node B's FORWARD after kube-proxy and a second up: %v", got)
	}
	if err := removeNodeNamespace(ctx, h, b); err != nil {
		t.Fatal(err)
	}
	if h.links["podpaths-b"] || h.mounts[b.NetNS] {
		t.Errorf("after removeNodeNamespace: links %v, mounts %v", h.links, h.mounts)
	}
	if _, err := os.Stat(b.NetNS); !os.IsNotExist(err) {
		t.Errorf("namespace file left: %v", err)
	}
	if err := removeNodeNamespace(ctx, h, b); err != nil {
		t.Errorf("removing again: %v", err)
	}
}

func TestCgroupRootInEveryHierarchy(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	for _, d := range []string{"cpu", "cpuset", "memory", "systemd", "unified"} {
		if err := os.MkdirAll(filepath.Join(base, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for f, v := range map[string]string{"cpuset/cpuset.cpus": "0-1\n", "cpuset/cpuset.mems": "0\n"} {
		if err := os.WriteFile(filepath.Join(base, f), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := ensureCgroupRoot(base, "/podpaths-b"); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"cpu", "cpuset", "memory", "systemd"} {
		if !fileExists(filepath.Join(base, d, "podpaths-b")) {
			t.Errorf("no cgroup root in %s", d)
		}
	}
	if fileExists(filepath.Join(base, "unified", "podpaths-b")) {
		t.Error("cgroup root made in systemd's unified hierarchy")
	}
	if b, _ := os.ReadFile(filepath.Join(base, "cpuset", "podpaths-b", "cpuset.cpus")); string(b) != "0-1\n" {
		t.Errorf("cpuset.cpus %q, want the root's", b)
	}
	if err := ensureCgroupRoot(base, "/podpaths-b"); err != nil {
		t.Errorf("second ensure: %v", err)
	}
	// A real cgroup directory is empty once its children are gone; here the
	// copied files stand for none.
	for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
		if err := os.Remove(filepath.Join(base, "cpuset", "podpaths-b", f)); err != nil {
			t.Fatal(err)
		}
	}
	// runc makes it in systemd's unified hierarchy by itself.
	if err := os.Mkdir(filepath.Join(base, "unified", "podpaths-b"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := removeCgroupRoot(base, "/podpaths-b"); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"cpu", "cpuset", "memory", "systemd", "unified"} {
		if fileExists(filepath.Join(base, d, "podpaths-b")) {
			t.Errorf("cgroup root left in %s", d)
		}
	}
	if err := removeCgroupRoot(base, "/"); err != nil {
		t.Errorf("the host's root: %v", err)
	}
}

func TestNodeCount(t *testing.T) {
	t.Parallel()
	env := func(v string) func(string) string { return func(string) string { return v } }
	for _, tt := range []struct {
		opt  int
		env  string
		want int
		err  bool
	}{{0, "", DefaultNodes, false}, {0, "1", 1, false}, {1, "2", 1, false}, {0, "two", 0, true}} {
		got, err := nodeCount(tt.opt, env(tt.env))
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("nodeCount(%d, %q) = %d, %v; want %d, error %t", tt.opt, tt.env, got, err, tt.want, tt.err)
		}
	}
}

func TestNodeBDaemonsRunInItsNamespace(t *testing.T) {
	t.Parallel()
	c := testTwoNodes(t)
	l := layout{dir: c.StateDir}
	b := c.Nodes[1]
	for _, d := range nodeDaemons(l, b, testBuilds()) {
		cmd := d.command()
		i := slices.Index(cmd, "nsenter")
		if i < 0 || cmd[i+1] != "--net="+b.NetNS || slices.Contains(cmd, "netns") {
			t.Errorf("%s: %q; want nsenter --net=%s", d, cmd, b.NetNS)
		}
		if !strings.HasPrefix(d.pidFile, l.node(b.Name).dir) {
			t.Errorf("%s keeps its pid file outside node B's directory: %s", d, d.pidFile)
		}
	}
	kubelet := strings.Join(nodeDaemons(l, b, testBuilds())[1].command(), " ")
	for _, want := range []string{"--node-ip=172.30.0.2", "--hostname-override=podpaths-b", "--root-dir=" + l.node("podpaths-b").kubelet()} {
		if !strings.Contains(kubelet, want) {
			t.Errorf("node B's kubelet lacks %s: %s", want, kubelet)
		}
	}
	files, err := renderNode(c, l, b)
	if err != nil {
		t.Fatal(err)
	}
	kubeletYAML := string(files[2].data)
	for _, want := range []string{"cgroupRoot: /podpaths-b", "podLogsDir: " + l.node("podpaths-b").podLogs(), "address: 172.30.0.2"} {
		if !strings.Contains(kubeletYAML, want) {
			t.Errorf("node B's kubelet.yaml lacks %q", want)
		}
	}
	if cni := string(files[1].data); !strings.Contains(cni, `"subnet": "10.244.1.0/24"`) || !strings.Contains(cni, l.node("podpaths-b").cniIPAM()) {
		t.Errorf("node B's CNI config must hand out 10.244.1.0/24 from its own IPAM dir:\n%s", cni)
	}
	ids := identities(c, l)
	if !slices.ContainsFunc(ids, func(id identity) bool {
		return id.spec.cn == "system:node:podpaths-b" && slices.Equal(id.spec.orgs, []string{"system:nodes"})
	}) {
		t.Error("no system:node:podpaths-b client certificate in system:nodes")
	}
}
