package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
)

// The network guards go up before any cluster process starts, and come down
// after the last one stopped. Together they make sure that no packet for a
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
//   - Pods get no default route (see podRoutes), CoreDNS has no forward
//     plugin, and containerd cannot pull (see containerd.toml.tmpl).
//
// The rules live in chains the lab owns (PODPATHS-*), so applying them again
// replaces them in one iptables-restore transaction, and removing them never
// touches a rule of Docker's or kube-proxy's.

// Chains the lab owns in the filter table.
const (
	guardChain       = "PODPATHS-GUARD"
	forwardChain     = "PODPATHS-FORWARD"
	acceptChain      = "PODPATHS-ACCEPT"
	unallocatedChain = "PODPATHS-UNALLOCATED"
)

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
func unallocatedRules(c Cluster) chain {
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

// route is one route in the host's main table.
type route struct {
	dst         netip.Prefix
	dev         string
	via         netip.Addr
	unreachable bool
}

// args are the arguments of `ip route replace|del`.
func (r route) args() []string {
	if r.unreachable {
		return []string{"unreachable", r.dst.String()}
	}
	args := []string{r.dst.String()}
	if r.via.IsValid() {
		args = append(args, "via", r.via.String())
	}
	return append(args, "dev", r.dev)
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

// netPlan is every host network change the cluster needs, as data.
type netPlan struct {
	bridges []string
	routes  []route
	// linkRoutes lead to the pods of nodes in namespaces of their own,
	// through their veth pairs, which exist only after the guards are up:
	// applyLinkRoutes adds them then.
	linkRoutes []route
	chains     []chain
	jumps      []jump
	// sysctls are /proc/sys paths and values: forwarding, and iptables for
	// bridged traffic (kube-proxy's rules must see pod-to-pod packets on one
	// bridge, or a pod calling a Service that lands on itself breaks).
	sysctls [][2]string
}

// restoredSysctls are changed by the cluster's components and put back by
// `down`: kube-proxy sets route_localnet so that NodePorts answer on
// 127.0.0.1, which also lets the kernel route packets for 127.0.0.0/8 that
// arrive from outside; kube-proxy's own rule drops those while it runs, but
// not after. (ip_forward and bridge-nf-call-iptables stay as they are: the
// Docker engine needs them too.)
var restoredSysctls = []string{"net/ipv4/conf/all/route_localnet"}

// recordSysctls saves the values of restoredSysctls to file, unless an
// earlier `up` did: the first value is the machine's own.
func recordSysctls(h host, file string) error {
	if _, err := os.Stat(file); err == nil {
		return nil
	}
	saved := map[string]string{}
	for _, k := range restoredSysctls {
		v, err := h.readSysctl(k)
		if err != nil {
			return err
		}
		saved[k] = v
	}
	b, err := json.Marshal(saved)
	if err != nil {
		return err
	}
	return writeFile(file, b, 0o644)
}

// restoreSysctls writes back what recordSysctls saved.
func restoreSysctls(h host, file string) error {
	b, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var saved map[string]string
	if err := json.Unmarshal(b, &saved); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	var errs []error
	for _, k := range restoredSysctls {
		if v, ok := saved[k]; ok {
			errs = append(errs, h.writeSysctl(k, v))
		}
	}
	return errors.Join(errs...)
}

// planNetwork derives the guards from the cluster.
func planNetwork(c Cluster) netPlan {
	p := netPlan{
		bridges: []string{c.SinkBridge},
		routes: []route{
			{dst: c.ServiceCIDR, dev: c.SinkBridge},
			{dst: c.LBCIDR, dev: c.SinkBridge},
			{dst: c.PodCIDR, unreachable: true},
		},
		sysctls: [][2]string{
			{"net/ipv4/ip_forward", "1"},
			{"net/bridge/bridge-nf-call-iptables", "1"},
		},
	}
	for _, n := range c.Nodes {
		if n.NetNS != "" {
			// A node in its own namespace: its pods are behind its veth.
			p.linkRoutes = append(p.linkRoutes, route{dst: n.PodCIDR, via: n.IP, dev: n.HostLink})
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
	// What reaches the end of FORWARD: first the drop of unrewritten
	// Service addresses, then the cluster's own traffic is accepted.
	acc.rules = append([][]string{{"-j", unallocatedChain}}, acc.rules...)
	p.chains = []chain{guard, fwd, unallocatedRules(c), acc}
	p.jumps = []jump{
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
func hostPodLinks(c Cluster) []string {
	var links []string
	for _, n := range c.Nodes {
		if !slices.Contains(links, n.HostLink) {
			links = append(links, n.HostLink)
		}
	}
	return links
}

// restoreInput is the iptables-restore input that creates the lab's chains
// or, with --noflush, empties and refills them in one transaction: there is
// no moment without the guard.
func restoreInput(chains []chain) string {
	var b strings.Builder
	b.WriteString("*filter\n")
	for _, c := range chains {
		fmt.Fprintf(&b, ":%s - [0:0]\n", c.name)
	}
	for _, c := range chains {
		for _, r := range c.rules {
			fmt.Fprintf(&b, "-A %s %s\n", c.name, quoteRule(r))
		}
	}
	b.WriteString("COMMIT\n")
	return b.String()
}

func quoteRule(r []string) string {
	q := make([]string, len(r))
	for i, a := range r {
		if strings.ContainsAny(a, " \t\"") {
			a = strconv.Quote(a)
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}

// jumpPositions finds the jump j in its chain's listing: the rule numbers
// (from 1) where it stands, and how many rules the chain has.
func jumpPositions(listing []string, j jump) (at []int, n int) {
	rule := "-A " + j.from + " -j " + j.to
	for _, line := range listing {
		if !strings.HasPrefix(line, "-A "+j.from+" ") {
			continue
		}
		n++
		if line == rule {
			at = append(at, n)
		}
	}
	return at, n
}

// jumpCommands are the iptables commands that leave exactly one jump j in
// its built-in chain, at the right end, given the chain's rules as
// `iptables -S <chain>` prints them. None when it is already so. Others'
// rules (kube-proxy puts its jumps first too) keep their order.
func jumpCommands(listing []string, j jump) [][]string {
	at, n := jumpPositions(listing, j)
	if len(at) == 1 && ((j.first && at[0] == 1) || (!j.first && at[0] == n)) {
		return nil
	}
	var cmds [][]string
	shift := 0
	if j.first {
		cmds = append(cmds, []string{"-I", j.from, "1", "-j", j.to})
		shift = 1
	} else {
		cmds = append(cmds, []string{"-A", j.from, "-j", j.to})
	}
	// Delete the old ones from the bottom, so the numbers stay right.
	for i := len(at) - 1; i >= 0; i-- {
		cmds = append(cmds, []string{"-D", j.from, strconv.Itoa(at[i] + shift)})
	}
	return cmds
}

// removeJumpCommands delete every jump from j.from to j.to.
func removeJumpCommands(listing []string, j jump) [][]string {
	at, _ := jumpPositions(listing, j)
	var cmds [][]string
	for i := len(at) - 1; i >= 0; i-- {
		cmds = append(cmds, []string{"-D", j.from, strconv.Itoa(at[i])})
	}
	return cmds
}

// iptablesWait makes iptables wait for the xtables lock instead of failing
// while the kubelet or kube-proxy holds it.
var iptablesWait = []string{"-w", "10"}

// applyNetwork puts the plan in place. Every step is idempotent.
func applyNetwork(ctx context.Context, h host, p netPlan) error {
	if _, err := h.run(ctx, []byte(restoreInput(p.chains)), "iptables-restore", append(slices.Clone(iptablesWait), "--noflush")...); err != nil {
		return fmt.Errorf("guard chains: %w", err)
	}
	if err := placeJumps(ctx, h, p.jumps); err != nil {
		return err
	}
	for _, s := range p.sysctls {
		if err := h.writeSysctl(s[0], s[1]); err != nil {
			return err
		}
	}
	for _, b := range p.bridges {
		if err := ensureBridge(ctx, h, b); err != nil {
			return err
		}
	}
	return replaceRoutes(ctx, h, p.routes)
}

// applyLinkRoutes adds the routes to the namespaced nodes' pods, once their
// veth pairs exist.
func applyLinkRoutes(ctx context.Context, h host, p netPlan) error {
	return replaceRoutes(ctx, h, p.linkRoutes)
}

func replaceRoutes(ctx context.Context, h host, routes []route) error {
	for _, r := range routes {
		if _, err := h.run(ctx, nil, "ip", append([]string{"route", "replace"}, r.args()...)...); err != nil {
			return fmt.Errorf("route %s: %w", strings.Join(r.args(), " "), err)
		}
	}
	return nil
}

// placeJumps puts the lab's jumps where they belong. `up` runs it again after
// kube-proxy started, because kube-proxy inserts its own jumps first.
func placeJumps(ctx context.Context, h runner, jumps []jump) error {
	for _, j := range jumps {
		listing, err := listChain(ctx, h, j.from)
		if err != nil {
			return err
		}
		for _, cmd := range jumpCommands(listing, j) {
			if _, err := h.run(ctx, nil, "iptables", append(slices.Clone(iptablesWait), cmd...)...); err != nil {
				return fmt.Errorf("jump %s -> %s: %w", j.from, j.to, err)
			}
		}
	}
	return nil
}

func listChain(ctx context.Context, h runner, name string) ([]string, error) {
	out, err := h.run(ctx, nil, "iptables", append(slices.Clone(iptablesWait), "-S", name)...)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", name, err)
	}
	return strings.Split(strings.TrimSpace(out), "\n"), nil
}

// ensureBridge creates an empty bridge without IPv6 (no link-local address,
// so not even neighbour discovery) and sets it up.
func ensureBridge(ctx context.Context, h host, name string) error {
	if !h.linkExists(name) {
		if _, err := h.run(ctx, nil, "ip", "link", "add", name, "type", "bridge"); err != nil {
			return fmt.Errorf("bridge %s: %w", name, err)
		}
	}
	for _, args := range [][]string{{"link", "set", name, "addrgenmode", "none"}, {"link", "set", name, "up"}} {
		if _, err := h.run(ctx, nil, "ip", args...); err != nil {
			return fmt.Errorf("bridge %s: %w", name, err)
		}
	}
	return nil
}

// removeNetwork takes the plan down again: jumps first, so no packet meets a
// half-removed chain, then the chains, routes and bridges. What is already
// gone is not an error; every step is tried, and the errors are joined.
func removeNetwork(ctx context.Context, h host, p netPlan) error {
	var errs []error
	for _, j := range p.jumps {
		listing, err := listChain(ctx, h, j.from)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, cmd := range removeJumpCommands(listing, j) {
			if _, err := h.run(ctx, nil, "iptables", append(slices.Clone(iptablesWait), cmd...)...); err != nil {
				errs = append(errs, fmt.Errorf("remove jump %s -> %s: %w", j.from, j.to, err))
			}
		}
	}
	for _, flag := range []string{"-F", "-X"} {
		for _, c := range p.chains {
			if !h.chainExists(ctx, c.name) {
				continue
			}
			if _, err := h.run(ctx, nil, "iptables", append(slices.Clone(iptablesWait), flag, c.name)...); err != nil {
				errs = append(errs, fmt.Errorf("remove chain %s: %w", c.name, err))
			}
		}
	}
	for _, r := range slices.Concat(p.linkRoutes, p.routes) {
		if !h.routeExists(ctx, r) {
			continue
		}
		if _, err := h.run(ctx, nil, "ip", append([]string{"route", "del"}, r.args()...)...); err != nil {
			errs = append(errs, fmt.Errorf("remove route %s: %w", strings.Join(r.args(), " "), err))
		}
	}
	for _, b := range p.bridges {
		errs = append(errs, deleteLink(ctx, h, b))
	}
	return errors.Join(errs...)
}

func deleteLink(ctx context.Context, h host, name string) error {
	if !h.linkExists(name) {
		return nil
	}
	if _, err := h.run(ctx, nil, "ip", "link", "del", name); err != nil {
		return fmt.Errorf("remove link %s: %w", name, err)
	}
	return nil
}
