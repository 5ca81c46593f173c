package nodes

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/podpaths/podpaths/lab/internal/local/cluster/clustertest"
	"github.com/podpaths/podpaths/lab/internal/local/host/hosttest"
)

// unallocated is the guards' chain that drops packets for Service addresses
// nobody rewrote; node B has its own.
const unallocated = "PODPATHS-UNALLOCATED"

func TestNodeBHasNoDefaultRoute(t *testing.T) {
	t.Parallel()
	c := clustertest.TwoNodes(t)
	var got []string
	for _, r := range nodeRoutes(c, c.Nodes[1]) {
		got = append(got, strings.Join(r.Args(), " "))
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

func TestNodeNamespaceLifecycle(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	c := clustertest.TwoNodes(t)
	b := c.Nodes[1]
	h := hosttest.New()
	if err := EnsureNamespace(ctx, h, c, b); err != nil {
		t.Fatal(err)
	}
	cmds := h.Commands()
	joined := strings.Join(cmds, "\n")
	for _, want := range []string{
		"unshare --net=" + b.NetNS + " true",
		"ip link add podpaths-b type veth peer name eth0 netns " + b.NetNS,
		"ip addr replace 172.30.0.1/30 dev podpaths-b",
		"nsenter --net=" + b.NetNS + " ip addr replace 172.30.0.2/30 dev eth0",
		"nsenter --net=" + b.NetNS + " ip route replace unreachable 10.244.0.0/16",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("EnsureNamespace did not run %q:\n%s", want, joined)
		}
	}
	// Its own filter, last in FORWARD and OUTPUT, where kube-proxy's
	// prepended jumps leave it.
	ns := h.Namespaces[b.NetNS]
	if ns == nil || !ns.Owned[unallocated] {
		t.Fatalf("node B's namespace has no %s chain:\n%s", unallocated, joined)
	}
	for _, builtin := range []string{"FORWARD", "OUTPUT"} {
		if got := ns.Chains[builtin]; !slices.Equal(got, []string{unallocated}) {
			t.Errorf("node B's %s: %v, want the jump to %s", builtin, got, unallocated)
		}
	}
	if len(h.Chains["OUTPUT"]) != 0 {
		t.Errorf("node B's filter went into the host's OUTPUT: %v", h.Chains["OUTPUT"])
	}
	if slices.ContainsFunc(cmds, func(c string) bool { return strings.Contains(c, "ip netns") }) {
		t.Errorf("ip netns used; it hides node A's pod namespaces:\n%s", joined)
	}
	if err := EnsureNamespace(ctx, h, c, b); err != nil {
		t.Fatal(err)
	}
	ns.Chains["FORWARD"] = slices.Insert(ns.Chains["FORWARD"], 0, "KUBE-FORWARD")
	if err := EnsureNamespace(ctx, h, c, b); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range h.Commands() {
		if strings.HasPrefix(cmd, "unshare") || strings.Contains(cmd, "link add") || strings.Contains(cmd, "iptables -w 10 -A") {
			t.Errorf("second EnsureNamespace recreated: %s", cmd)
		}
	}
	if got := ns.Chains["FORWARD"]; !slices.Equal(got, []string{"KUBE-FORWARD", unallocated}) {
		t.Errorf("node B's FORWARD after kube-proxy and a second up: %v", got)
	}
	if err := RemoveNamespace(ctx, h, b); err != nil {
		t.Fatal(err)
	}
	if h.Links["podpaths-b"] || h.Mounts[b.NetNS] {
		t.Errorf("after RemoveNamespace: links %v, mounts %v", h.Links, h.Mounts)
	}
	if _, err := os.Stat(b.NetNS); !os.IsNotExist(err) {
		t.Errorf("namespace file left: %v", err)
	}
	if err := RemoveNamespace(ctx, h, b); err != nil {
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
	if err := EnsureCgroupRoot(base, "/podpaths-b"); err != nil {
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
	if err := EnsureCgroupRoot(base, "/podpaths-b"); err != nil {
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
	if err := RemoveCgroupRoot(base, "/podpaths-b"); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"cpu", "cpuset", "memory", "systemd", "unified"} {
		if fileExists(filepath.Join(base, d, "podpaths-b")) {
			t.Errorf("cgroup root left in %s", d)
		}
	}
	if err := RemoveCgroupRoot(base, "/"); err != nil {
		t.Errorf("the host's root: %v", err)
	}
}
