package local

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeHost records commands and keeps just enough state for the network
// code: the built-in chains' rules, the links, routes and mounts.
type fakeHost struct {
	mu      sync.Mutex
	cmds    []string
	chains  map[string][]string // built-in chain -> "-j TARGET" of each rule, in order
	owned   map[string]bool     // chains created by iptables-restore
	links   map[string]bool
	routes  map[string]bool
	mounts  map[string]bool
	sysctls map[string]string
	// namespaces hold the iptables state of commands run with nsenter.
	namespaces map[string]*fakeHost
}

func newFakeHost() *fakeHost {
	return &fakeHost{
		chains: map[string][]string{"FORWARD": {"DOCKER-USER", "DOCKER-ISOLATION-STAGE-1"}, "OUTPUT": nil},
		owned:  map[string]bool{}, links: map[string]bool{}, routes: map[string]bool{}, mounts: map[string]bool{},
		sysctls: map[string]string{}, namespaces: map[string]*fakeHost{},
	}
}

// namespace is the state behind `nsenter --net=FILE`: a fresh namespace's
// chains are empty.
func (h *fakeHost) namespace(file string) *fakeHost {
	ns, ok := h.namespaces[file]
	if !ok {
		ns = newFakeHost()
		ns.chains = map[string][]string{"FORWARD": nil, "OUTPUT": nil}
		h.namespaces[file] = ns
	}
	return ns
}

func (h *fakeHost) run(ctx context.Context, stdin []byte, name string, args ...string) (string, error) {
	h.mu.Lock()
	h.cmds = append(h.cmds, strings.TrimSpace(name+" "+strings.Join(args, " ")))
	if name == "nsenter" && (args[1] == "iptables" || args[1] == "iptables-restore") {
		ns := h.namespace(strings.TrimPrefix(args[0], "--net="))
		h.mu.Unlock()
		out, err := ns.run(ctx, stdin, args[1], args[2:]...)
		ns.commands()
		return out, err
	}
	defer h.mu.Unlock()
	args = slices.DeleteFunc(slices.Clone(args), func(a string) bool { return a == "-w" || a == "10" })
	switch name {
	case "iptables-restore":
		for line := range strings.SplitSeq(string(stdin), "\n") {
			if strings.HasPrefix(line, ":") {
				h.owned[strings.Fields(line[1:])[0]] = true
			}
		}
	case "iptables":
		return h.iptables(args)
	case "ip":
		switch {
		case args[0] == "link" && args[1] == "add":
			h.links[args[2]] = true
		case args[0] == "link" && args[1] == "del":
			delete(h.links, args[2])
		case args[0] == "route" && args[1] == "replace":
			h.routes[strings.Join(args[2:], " ")] = true
		case args[0] == "route" && args[1] == "del":
			delete(h.routes, strings.Join(args[2:], " "))
		}
	case "unshare":
		h.mounts[strings.TrimPrefix(args[0], "--net=")] = true
	case "umount":
		delete(h.mounts, args[0])
	}
	return "", nil
}

func (h *fakeHost) iptables(args []string) (string, error) {
	switch args[0] {
	case "-S":
		out := "-P " + args[1] + " ACCEPT\n"
		for _, t := range h.chains[args[1]] {
			out += "-A " + args[1] + " -j " + t + "\n"
		}
		return out, nil
	case "-I":
		pos, _ := strconv.Atoi(args[2])
		h.chains[args[1]] = slices.Insert(h.chains[args[1]], pos-1, args[4])
	case "-A":
		h.chains[args[1]] = append(h.chains[args[1]], args[3])
	case "-D":
		pos, _ := strconv.Atoi(args[2])
		h.chains[args[1]] = slices.Delete(h.chains[args[1]], pos-1, pos)
	case "-X":
		delete(h.owned, args[1])
	}
	return "", nil
}

func (h *fakeHost) writeSysctl(k, v string) error { h.sysctls[k] = v; return nil }
func (h *fakeHost) readSysctl(k string) (string, error) {
	if v, ok := h.sysctls[k]; ok {
		return v, nil
	}
	return "", fmt.Errorf("no sysctl %s", k)
}
func (h *fakeHost) linkExists(name string) bool { return h.links[name] }
func (h *fakeHost) chainExists(_ context.Context, name string) bool {
	return h.owned[name]
}
func (h *fakeHost) routeExists(_ context.Context, r route) bool {
	return h.routes[strings.Join(r.args(), " ")]
}
func (h *fakeHost) mounted(path string) bool { return h.mounts[path] }

// commands returns and forgets the recorded commands.
func (h *fakeHost) commands() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.cmds
	h.cmds = nil
	return c
}

func rulesOf(p netPlan, name string) []string {
	for _, c := range p.chains {
		if c.name == name {
			var rs []string
			for _, r := range c.rules {
				rs = append(rs, strings.Join(r, " "))
			}
			return rs
		}
	}
	return nil
}

func TestPlanGuardsEveryClusterRange(t *testing.T) {
	t.Parallel()
	p := planNetwork(testCluster(t))
	guard := rulesOf(p, guardChain)
	for _, r := range []string{"10.96.0.0/16", "10.97.0.0/24", "10.244.0.0/16", "172.31.0.0/30"} {
		want := "-d " + r + " -m comment --comment podpaths: cluster range never leaves -j DROP"
		if !slices.Contains(guard, want) {
			t.Errorf("no DROP for packets to %s leaving through another interface; guard:\n%s", r, strings.Join(guard, "\n"))
		}
	}
	for _, r := range []string{"10.244.0.0/16", "172.31.0.0/30"} {
		if !slices.ContainsFunc(guard, func(s string) bool { return strings.HasPrefix(s, "-s "+r+" ") && strings.HasSuffix(s, "-j DROP") }) {
			t.Errorf("no DROP for packets from %s leaving through another interface", r)
		}
	}
	// The exemptions come before the drops, and name only this machine's
	// own interfaces: no eth0, no docker0.
	var exempt []string
	for i, r := range guard {
		if strings.HasSuffix(r, "-j RETURN") {
			exempt = append(exempt, strings.Fields(r)[1])
			if i >= 4 {
				t.Errorf("guard rule %d is a RETURN after the DROPs: %s", i, r)
			}
		}
	}
	if want := []string{"lo", "podpaths-svc", "cni0", "podpaths-out"}; !slices.Equal(exempt, want) {
		t.Errorf("interfaces exempt from the guard: got %v, want %v", exempt, want)
	}
	wantRoutes := []string{"10.96.0.0/16 dev podpaths-svc", "10.97.0.0/24 dev podpaths-svc", "unreachable 10.244.0.0/16"}
	var got []string
	for _, r := range p.routes {
		got = append(got, strings.Join(r.args(), " "))
	}
	if !slices.Equal(got, wantRoutes) {
		t.Errorf("routes: got %v, want %v", got, wantRoutes)
	}
}

func TestPlanForwardsOnlyClusterTraffic(t *testing.T) {
	t.Parallel()
	p := planNetwork(testCluster(t))
	fwd := rulesOf(p, forwardChain)
	want := []string{
		"-j PODPATHS-GUARD",
		"-i cni0 -o cni0 -j RETURN",
		"-i cni0 -o podpaths-out -j RETURN",
		"-i cni0 -o podpaths-svc -m comment --comment podpaths: to kube-proxy's reject -j RETURN",
		"-i cni0 -m comment --comment podpaths: pods reach only the cluster -j DROP",
		"-i podpaths-out -o cni0 -j RETURN",
		"-i podpaths-out -o podpaths-svc -m comment --comment podpaths: to kube-proxy's reject -j RETURN",
		"-i podpaths-out -m comment --comment podpaths: pods reach only the cluster -j DROP",
	}
	if !slices.Equal(fwd, want) {
		t.Errorf("forward chain:\n got %q\nwant %q", fwd, want)
	}
	acc := rulesOf(p, acceptChain)
	if len(acc) != 4 || acc[0] != "-j "+unallocatedChain || !slices.ContainsFunc(acc, func(s string) bool { return strings.HasPrefix(s, "-i cni0 -o cni0 ") }) {
		t.Errorf("accept chain %q: want the unallocated drop first, then cni0<->cni0, cni0->outside and outside->cni0", acc)
	}
	jumps := fmt.Sprint(p.jumps)
	if jumps != "[{OUTPUT PODPATHS-GUARD true} {FORWARD PODPATHS-FORWARD true} {FORWARD PODPATHS-ACCEPT false} {OUTPUT PODPATHS-UNALLOCATED false}]" {
		t.Errorf("jumps: %s", jumps)
	}
}

// TestPlanDropsUnrewrittenServiceAddresses: a packet for the Service or
// LoadBalancer range that kube-proxy did not rewrite is dropped, not
// forwarded, so conntrack never remembers it.
func TestPlanDropsUnrewrittenServiceAddresses(t *testing.T) {
	t.Parallel()
	got := rulesOf(planNetwork(testCluster(t)), unallocatedChain)
	want := []string{
		"-d 10.96.0.0/16 -m conntrack ! --ctstate DNAT -m comment --comment podpaths: no Service has this address -j DROP",
		"-d 10.97.0.0/24 -m conntrack ! --ctstate DNAT -m comment --comment podpaths: no Service has this address -j DROP",
	}
	if !slices.Equal(got, want) {
		t.Errorf("unallocated chain:\n got %q\nwant %q", got, want)
	}
}

func TestPlanRoutesANodeInItsOwnNamespace(t *testing.T) {
	t.Parallel()
	c := testTwoNodes(t)
	p := planNetwork(c)
	if !slices.ContainsFunc(p.linkRoutes, func(r route) bool {
		return strings.Join(r.args(), " ") == "10.244.1.0/24 via 172.30.0.2 dev podpaths-b"
	}) {
		t.Errorf("no route to node B's pods through its veth: %v", p.routes)
	}
	fwd := rulesOf(p, forwardChain)
	for _, want := range []string{"-i cni0 -o podpaths-b -j RETURN", "-i podpaths-b -o cni0 -j RETURN", "-i podpaths-out -o podpaths-b -j RETURN"} {
		if !slices.Contains(fwd, want) {
			t.Errorf("forward chain lacks %q", want)
		}
	}
}

func TestRestoreInputReplacesChainsInOneTransaction(t *testing.T) {
	t.Parallel()
	got := restoreInput([]chain{{name: "A", rules: [][]string{{"-o", "lo", "-m", "comment", "--comment", "two words", "-j", "RETURN"}}}, {name: "B"}})
	want := "*filter\n:A - [0:0]\n:B - [0:0]\n-A A -o lo -m comment --comment \"two words\" -j RETURN\nCOMMIT\n"
	if got != want {
		t.Errorf("restore input:\n got %q\nwant %q", got, want)
	}
}

func TestJumpCommands(t *testing.T) {
	t.Parallel()
	listing := func(targets ...string) []string {
		out := []string{"-P FORWARD DROP"}
		for _, tg := range targets {
			out = append(out, "-A FORWARD -j "+tg)
		}
		return out
	}
	first := jump{from: "FORWARD", to: "G", first: true}
	last := jump{from: "FORWARD", to: "A", first: false}
	tests := []struct {
		name    string
		listing []string
		j       jump
		want    string
	}{
		{"first, missing", listing("DOCKER-USER"), first, "[[-I FORWARD 1 -j G]]"},
		{"first, in place", listing("G", "DOCKER-USER"), first, "[]"},
		{"first, pushed down by kube-proxy", listing("KUBE-FORWARD", "G", "X"), first, "[[-I FORWARD 1 -j G] [-D FORWARD 3]]"},
		{"first, twice", listing("G", "X", "G"), first, "[[-I FORWARD 1 -j G] [-D FORWARD 4] [-D FORWARD 2]]"},
		{"last, missing", listing("X"), last, "[[-A FORWARD -j A]]"},
		{"last, in place", listing("X", "A"), last, "[]"},
		{"last, not last", listing("A", "X"), last, "[[-A FORWARD -j A] [-D FORWARD 1]]"},
		{"other chain's rule ignored", append(listing("G"), "-A OUTPUT -j G"), first, "[]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := fmt.Sprint(jumpCommands(tt.listing, tt.j)); got != tt.want {
				t.Errorf("jumpCommands(%q, %+v): got %s, want %s", tt.listing, tt.j, got, tt.want)
			}
		})
	}
	if got := fmt.Sprint(removeJumpCommands(listing("G", "X", "G"), first)); got != "[[-D FORWARD 3] [-D FORWARD 1]]" {
		t.Errorf("removeJumpCommands: got %s", got)
	}
}

// TestApplyNetworkIsIdempotentAndRemovable applies the plan twice, lets
// "kube-proxy" push the guard down, re-places it, and removes it all.
func TestApplyNetworkIsIdempotentAndRemovable(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	h := newFakeHost()
	p := planNetwork(testCluster(t))
	if err := applyNetwork(ctx, h, p); err != nil {
		t.Fatal(err)
	}
	if got := h.chains["FORWARD"]; !slices.Equal(got, []string{forwardChain, "DOCKER-USER", "DOCKER-ISOLATION-STAGE-1", acceptChain}) {
		t.Errorf("FORWARD after apply: %v", got)
	}
	if got := h.chains["OUTPUT"]; !slices.Equal(got, []string{guardChain, unallocatedChain}) {
		t.Errorf("OUTPUT after apply: %v", got)
	}
	if !h.links["podpaths-svc"] || h.sysctls["net/ipv4/ip_forward"] != "1" || !h.routes["unreachable 10.244.0.0/16"] {
		t.Errorf("apply: links %v, sysctls %v, routes %v", h.links, h.sysctls, h.routes)
	}
	// The first command of all is the guard chains: nothing before them.
	if cmds := h.commands(); !strings.HasPrefix(cmds[0], "iptables-restore") {
		t.Errorf("first command %q; the guard chains must come first", cmds[0])
	}

	if err := applyNetwork(ctx, h, p); err != nil {
		t.Fatal(err)
	}
	for _, c := range h.commands() {
		if strings.HasPrefix(c, "iptables -w 10 -I") || strings.HasPrefix(c, "iptables -w 10 -A") || strings.Contains(c, "link add") {
			t.Errorf("second apply changed something: %s", c)
		}
	}

	h.chains["FORWARD"] = slices.Insert(h.chains["FORWARD"], 0, "KUBE-FORWARD")
	if err := placeJumps(ctx, h, p.jumps); err != nil {
		t.Fatal(err)
	}
	if got := h.chains["FORWARD"]; got[0] != forwardChain || strings.Count(fmt.Sprint(got), forwardChain) != 1 {
		t.Errorf("FORWARD after kube-proxy and placeJumps: %v", got)
	}

	if err := removeNetwork(ctx, h, p); err != nil {
		t.Fatal(err)
	}
	if got := h.chains["FORWARD"]; !slices.Equal(got, []string{"KUBE-FORWARD", "DOCKER-USER", "DOCKER-ISOLATION-STAGE-1"}) {
		t.Errorf("FORWARD after remove: %v (others' rules must stay)", got)
	}
	if len(h.chains["OUTPUT"]) != 0 || len(h.links) != 0 || len(h.routes) != 0 || len(h.owned) != 0 {
		t.Errorf("left after remove: OUTPUT %v, links %v, routes %v, chains %v", h.chains["OUTPUT"], h.links, h.routes, h.owned)
	}
	h.commands()
	if err := removeNetwork(ctx, h, p); err != nil {
		t.Errorf("removing again: %v", err)
	}
	for _, c := range h.commands() {
		if !strings.Contains(c, " -S ") {
			t.Errorf("removing what is gone ran %q", c)
		}
	}
}

func TestOutsideClientHasNoDefaultRoute(t *testing.T) {
	t.Parallel()
	c := testCluster(t)
	var got []string
	for _, r := range outsideRoutes(c) {
		got = append(got, strings.Join(r.args(), " "))
	}
	want := []string{"192.0.2.2/32 via 172.31.0.1 dev eth0", "10.97.0.0/24 via 172.31.0.1 dev eth0", "10.96.0.0/16 via 172.31.0.1 dev eth0"}
	if !slices.Equal(got, want) {
		t.Errorf("outside routes: got %v, want %v", got, want)
	}
	for _, cmd := range outsideCommands(c) {
		if slices.Contains(cmd, "default") || slices.Contains(cmd, "0.0.0.0/0") {
			t.Errorf("outside client gets a default route: %v", cmd)
		}
	}
}

func TestOutsideClientLifecycle(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	c := testCluster(t)
	h := newFakeHost()
	if err := ensureOutside(ctx, h, c); err != nil {
		t.Fatal(err)
	}
	cmds := strings.Join(h.commands(), "\n")
	for _, want := range []string{
		"unshare --net=" + c.Outside.NetNS + " true",
		"ip link add podpaths-out type veth peer name eth0 netns " + c.Outside.NetNS,
		"ip addr replace 172.31.0.1/30 dev podpaths-out",
		"nsenter --net=" + c.Outside.NetNS + " ip addr replace 172.31.0.2/30 dev eth0",
	} {
		if !strings.Contains(cmds, want) {
			t.Errorf("ensureOutside did not run %q:\n%s", want, cmds)
		}
	}
	if err := ensureOutside(ctx, h, c); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range h.commands() {
		if strings.HasPrefix(cmd, "unshare") || strings.Contains(cmd, "link add") {
			t.Errorf("second ensureOutside recreated: %s", cmd)
		}
	}
	if err := removeOutside(ctx, h, c); err != nil {
		t.Fatal(err)
	}
	if h.links["podpaths-out"] || h.mounts[c.Outside.NetNS] {
		t.Errorf("after removeOutside: links %v, mounts %v", h.links, h.mounts)
	}
	if err := removeOutside(ctx, h, c); err != nil {
		t.Errorf("removing again: %v", err)
	}
}

func TestSysctlsAreRestored(t *testing.T) {
	t.Parallel()
	h := newFakeHost()
	file := t.TempDir() + "/sysctls.json"
	key := "net/ipv4/conf/all/route_localnet"
	h.sysctls[key] = "0"
	if err := recordSysctls(h, file); err != nil {
		t.Fatal(err)
	}
	h.sysctls[key] = "1" // kube-proxy
	if err := recordSysctls(h, file); err != nil {
		t.Fatal(err)
	}
	if err := restoreSysctls(h, file); err != nil {
		t.Fatal(err)
	}
	if h.sysctls[key] != "0" {
		t.Errorf("route_localnet after restore: %s, want the machine's own 0 (a second up must not record kube-proxy's 1)", h.sysctls[key])
	}
	if err := restoreSysctls(h, t.TempDir()+"/none.json"); err != nil {
		t.Errorf("nothing recorded: %v", err)
	}
}
