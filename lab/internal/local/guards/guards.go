// Package guards keeps the cluster's packets on this machine. Its network
// guards go up before any cluster process starts, and come down after the
// last one stopped. Together they make sure that no packet for a
// cluster range leaves this machine, whatever a pod or a misconfiguration
// tries:
//
//   - Routes: the Service and LoadBalancer ranges lead to an empty bridge
//     (this kernel has no dummy interfaces). A host process needs *a* route
//     for a ClusterIP so its packet reaches the nat OUTPUT hook, where
//     kube-proxy rewrites it to a pod. The pod range is `unreachable` except
//     each node's own range.
//   - Every node drops a packet for a Service or LoadBalancer address that
//     kube-proxy did not rewrite (see unallocatedRules).
//   - iptables: a chain first in OUTPUT and FORWARD drops any packet to or
//     from a cluster range that would go out of an interface that is not the
//     cluster's own (eth0, docker0, anything added later). Pods may talk to
//     pods and to the outside client, nothing else is forwarded for them.
//   - A chain first in INPUT drops a packet for a port of the cluster's
//     processes (API server, kubelet, NodePorts, MetalLB's metrics) that
//     arrives on an interface that is not the cluster's own: node A uses
//     this machine's own address, which a LAN neighbour can reach. A
//     NodePort call that kube-proxy rewrote to a pod is forwarded instead,
//     and the FORWARD chain drops whatever comes from such an interface.
//   - Pods get no default route (see podRoutes in package local), CoreDNS
//     has no forward plugin, and containerd cannot pull (see local's
//     templates/containerd.toml.tmpl).
//
// The rules live in chains the lab owns (PODPATHS-*), so applying them again
// replaces them in one iptables-restore transaction, and removing them never
// touches a rule of Docker's or kube-proxy's.
package guards

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/podpaths/podpaths/lab/internal/local/cluster"
	"github.com/podpaths/podpaths/lab/internal/local/host"
)

// Chains the lab owns in the filter table.
const (
	guardChain       = "PODPATHS-GUARD"
	forwardChain     = "PODPATHS-FORWARD"
	acceptChain      = "PODPATHS-ACCEPT"
	unallocatedChain = "PODPATHS-UNALLOCATED"
	inputChain       = "PODPATHS-INPUT"
)

// labPorts are the TCP ports the cluster's processes listen on, for
// iptables' multiport match: etcd (client, peer, metrics), the API server,
// MetalLB's controller metrics, the kubelet's and kube-proxy's ports
// (10248-10259, the controller manager's and scheduler's included), and the
// NodePort range, which is also open for UDP. Several listen on loopback
// only; the guard holds for all, whatever a flag says.
func labPorts(c cluster.Cluster) string {
	return fmt.Sprintf("2379:2381,%d,7472,10248:10259,%s", c.APIServerPort, nodePortRange(c))
}

// nodePortRange is the NodePort range as iptables writes it: 30000:32767.
func nodePortRange(c cluster.Cluster) string {
	return strings.ReplaceAll(c.NodePortRange, "-", ":")
}

// inputRules drop what reaches a port of the cluster from anywhere but
// the interfaces in ours.
func inputRules(c cluster.Cluster, ours []string) chain {
	// Replies to this machine's own connections pass whatever their port:
	// a local port range may reach down into the cluster's ports.
	ch := chain{name: inputChain, rules: [][]string{slices.Concat([]string{"-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED"},
		ruleComment("replies to this machine's connections"), []string{"-j", "RETURN"})}}
	for _, l := range ours {
		ch.rules = append(ch.rules, slices.Concat([]string{"-i", l}, ruleComment("the cluster's own link"), []string{"-j", "RETURN"}))
	}
	ch.rules = append(ch.rules,
		slices.Concat([]string{"-p", "tcp", "-m", "multiport", "--dports", labPorts(c)},
			ruleComment("no cluster port for the network"), []string{"-j", "DROP"}),
		slices.Concat([]string{"-p", "udp", "--dport", nodePortRange(c)},
			ruleComment("no cluster port for the network"), []string{"-j", "DROP"}))
	return ch
}

// ruleComment labels a rule in `iptables -S`, so a reader of the host's
// rules can tell the lab's from Docker's and kube-proxy's.
func ruleComment(s string) []string {
	return []string{"-m", "comment", "--comment", "podpaths: " + s}
}

// unallocatedRules drop, on every node, a packet for a Service or
// LoadBalancer address that kube-proxy did not rewrite: no Service has that
// address, or none has it any more. kube-proxy's nftables mode does the same
// ("Drop traffic to unallocated ClusterIPs"); its iptables mode, which the
// lab runs, lets such a packet on. Dropping it in the filter table matters
// beyond tidiness: a dropped packet never enters the conntrack table, while
// a forwarded one leaves an unanswered SYN there for 120 s
// (nf_conntrack_tcp_timeout_syn_sent). If the Service comes back meanwhile
// with the same address, a client that reuses that source port matches the
// old entry, skips kube-proxy's rewrite, and times out; the e2e suite saw
// exactly that after it deleted and restored the backend Service.
//
// They sit at the end of FORWARD and OUTPUT: kube-proxy's REJECT for a
// Service without endpoints comes first and still refuses at once.
func unallocatedRules(c cluster.Cluster) chain {
	ch := chain{name: unallocatedChain}
	for _, r := range []netip.Prefix{c.ServiceCIDR, c.LBCIDR} {
		ch.rules = append(ch.rules, slices.Concat(
			[]string{"-d", r.String(), "-m", "conntrack", "!", "--ctstate", "DNAT"},
			ruleComment("no Service has this address"), []string{"-j", "DROP"}))
	}
	return ch
}

// unallocatedJumps put unallocatedRules last in FORWARD (pods' packets) and
// OUTPUT (the node's own processes' packets).
var unallocatedJumps = []jump{
	{from: "FORWARD", to: unallocatedChain, first: false},
	{from: "OUTPUT", to: unallocatedChain, first: false},
}

// chain is a filter-table chain whose rules the lab owns entirely.
type chain struct {
	name  string
	rules [][]string
}

// jump puts a chain into a built-in one: first, above Docker's and
// kube-proxy's rules, or last, just above the chain's policy.
type jump struct {
	from, to string
	first    bool
}

// Plan is every host network change the cluster needs, as data: Apply puts
// it in place and Remove takes it down, so both act on the same rules.
type Plan struct {
	bridges []string
	routes  []host.Route
	// linkRoutes lead to the pods of nodes in namespaces of their own,
	// through their veth pairs, which exist only after the guards are up:
	// ApplyLinkRoutes adds them then.
	linkRoutes []host.Route
	chains     []chain
	jumps      []jump
	// sysctls are /proc/sys paths and values: forwarding, and iptables for
	// bridged traffic (kube-proxy's rules must see pod-to-pod packets on one
	// bridge, or a pod calling a Service that lands on itself breaks).
	sysctls [][2]string
}

// NewPlan derives the guards from the cluster.
func NewPlan(c cluster.Cluster) Plan {
	p := Plan{
		bridges: []string{c.SinkBridge},
		routes: []host.Route{
			{Dst: c.ServiceCIDR, Dev: c.SinkBridge},
			{Dst: c.LBCIDR, Dev: c.SinkBridge},
			{Dst: c.PodCIDR, Unreachable: true},
		},
		sysctls: [][2]string{
			{"net/ipv4/ip_forward", "1"},
			{"net/bridge/bridge-nf-call-iptables", "1"},
		},
	}
	for _, n := range c.Nodes {
		if n.NetNS != "" {
			// A node in its own namespace: its pods are behind its veth.
			p.linkRoutes = append(p.linkRoutes, host.Route{Dst: n.PodCIDR, Via: n.IP, Dev: n.HostLink})
		}
	}
	podLinks := hostPodLinks(c)
	// Interfaces that cluster traffic may leave through: all of them end on
	// this machine.
	ours := append([]string{"lo", c.SinkBridge}, podLinks...)
	ours = append(ours, c.Outside.HostLink)

	guard := chain{name: guardChain}
	for _, l := range ours {
		guard.rules = append(guard.rules, slices.Concat([]string{"-o", l}, ruleComment("stays on this machine"), []string{"-j", "RETURN"}))
	}
	for _, r := range []netip.Prefix{c.ServiceCIDR, c.LBCIDR, c.PodCIDR, c.Outside.IP.Masked(), c.NodeLinkCIDR} {
		guard.rules = append(guard.rules, slices.Concat([]string{"-d", r.String()}, ruleComment("cluster range never leaves"), []string{"-j", "DROP"}))
	}
	for _, r := range []netip.Prefix{c.PodCIDR, c.Outside.IP.Masked(), c.NodeLinkCIDR} {
		guard.rules = append(guard.rules, slices.Concat([]string{"-s", r.String()}, ruleComment("cluster range never leaves"), []string{"-j", "DROP"}))
	}

	// Which forwarded flows are allowed: pods to pods (on any node) and to
	// the outside client, the outside client to pods. Everything else that
	// comes from a pod or from the outside client is dropped.
	allowed := map[string][]string{c.Outside.HostLink: podLinks}
	for _, l := range podLinks {
		allowed[l] = append(slices.Clone(podLinks), c.Outside.HostLink)
	}
	fwd := chain{name: forwardChain, rules: [][]string{{"-j", guardChain}}}
	acc := chain{name: acceptChain}
	for _, in := range append(slices.Clone(podLinks), c.Outside.HostLink) {
		for _, out := range allowed[in] {
			fwd.rules = append(fwd.rules, []string{"-i", in, "-o", out, "-j", "RETURN"})
			acc.rules = append(acc.rules, slices.Concat([]string{"-i", in, "-o", out}, ruleComment("cluster traffic"), []string{"-j", "ACCEPT"}))
		}
		// A ClusterIP without endpoints is not rewritten and is routed to
		// the empty sink bridge; let it on to kube-proxy's REJECT, so the
		// caller is refused rather than left to time out. Nothing can leave
		// through a bridge with no ports.
		fwd.rules = append(fwd.rules, slices.Concat([]string{"-i", in, "-o", c.SinkBridge}, ruleComment("to kube-proxy's reject"), []string{"-j", "RETURN"}))
		fwd.rules = append(fwd.rules, slices.Concat([]string{"-i", in}, ruleComment("pods reach only the cluster"), []string{"-j", "DROP"}))
	}
	// A packet from any other interface (eth0, docker0, ...) must not reach
	// a pod or the outside client either: kube-proxy rewrites a NodePort
	// call to a pod's address before INPUT, so PODPATHS-INPUT never sees
	// it, and Docker's DROP policy for FORWARD is not there on every machine.
	for _, out := range append(slices.Clone(podLinks), c.Outside.HostLink) {
		fwd.rules = append(fwd.rules, slices.Concat([]string{"-o", out}, ruleComment("nothing from other interfaces"), []string{"-j", "DROP"}))
	}
	// What reaches the end of FORWARD: first the drop of unrewritten
	// Service addresses, then the cluster's own traffic is accepted.
	acc.rules = append([][]string{{"-j", unallocatedChain}}, acc.rules...)
	p.chains = []chain{guard, fwd, unallocatedRules(c), acc, inputRules(c, ours)}
	p.jumps = []jump{
		{from: "INPUT", to: inputChain, first: true},
		{from: "OUTPUT", to: guardChain, first: true},
		{from: "FORWARD", to: forwardChain, first: true},
		// Last, so that kube-proxy's filters (KUBE-FORWARD, KUBE-SERVICES,
		// KUBE-EXTERNAL-SERVICES) see the traffic before it is accepted;
		// Docker sets FORWARD's policy to DROP.
		{from: "FORWARD", to: acceptChain, first: false},
		{from: "OUTPUT", to: unallocatedChain, first: false},
	}
	return p
}

// hostPodLinks are the host interfaces behind which pods live.
func hostPodLinks(c cluster.Cluster) []string {
	var links []string
	for _, n := range c.Nodes {
		if !slices.Contains(links, n.HostLink) {
			links = append(links, n.HostLink)
		}
	}
	return links
}
