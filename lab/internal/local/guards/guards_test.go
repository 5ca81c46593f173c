package guards

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/podpaths/podpaths/lab/internal/local/cluster/clustertest"
	"github.com/podpaths/podpaths/lab/internal/local/host"
)

func rulesOf(p Plan, name string) []string {
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
	p := NewPlan(clustertest.New(t))
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
		got = append(got, strings.Join(r.Args(), " "))
	}
	if !slices.Equal(got, wantRoutes) {
		t.Errorf("routes: got %v, want %v", got, wantRoutes)
	}
}

func TestPlanForwardsOnlyClusterTraffic(t *testing.T) {
	t.Parallel()
	p := NewPlan(clustertest.New(t))
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
		"-o cni0 -m comment --comment podpaths: nothing from other interfaces -j DROP",
		"-o podpaths-out -m comment --comment podpaths: nothing from other interfaces -j DROP",
	}
	if !slices.Equal(fwd, want) {
		t.Errorf("forward chain:\n got %q\nwant %q", fwd, want)
	}
	acc := rulesOf(p, acceptChain)
	if len(acc) != 4 || acc[0] != "-j "+unallocatedChain || !slices.ContainsFunc(acc, func(s string) bool { return strings.HasPrefix(s, "-i cni0 -o cni0 ") }) {
		t.Errorf("accept chain %q: want the unallocated drop first, then cni0<->cni0, cni0->outside and outside->cni0", acc)
	}
	jumps := fmt.Sprint(p.jumps)
	if jumps != "[{INPUT PODPATHS-INPUT true} {OUTPUT PODPATHS-GUARD true} {FORWARD PODPATHS-FORWARD true} {FORWARD PODPATHS-ACCEPT false} {OUTPUT PODPATHS-UNALLOCATED false}]" {
		t.Errorf("jumps: %s", jumps)
	}
}

// TestPlanDropsUnrewrittenServiceAddresses: a packet for the Service or
// LoadBalancer range that kube-proxy did not rewrite is dropped, not
// forwarded, so conntrack never remembers it.
func TestPlanDropsUnrewrittenServiceAddresses(t *testing.T) {
	t.Parallel()
	got := rulesOf(NewPlan(clustertest.New(t)), unallocatedChain)
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
	c := clustertest.TwoNodes(t)
	p := NewPlan(c)
	if !slices.ContainsFunc(p.linkRoutes, func(r host.Route) bool {
		return strings.Join(r.Args(), " ") == "10.244.1.0/24 via 172.30.0.2 dev podpaths-b"
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

func TestTwoNodePlanGuardsTheNodeLinks(t *testing.T) {
	t.Parallel()
	c := clustertest.TwoNodes(t)
	p := NewPlan(c)
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
	if slices.ContainsFunc(p.routes, func(r host.Route) bool { return r.Dev == "podpaths-b" }) {
		t.Errorf("a route through node B's veth among the routes applied before it exists: %v", p.routes)
	}
}

// TestPlanKeepsTheClusterPortsOffTheNetwork: node A's address is this
// machine's own, so only loopback and the cluster's links may reach the
// ports its processes open there.
func TestPlanKeepsTheClusterPortsOffTheNetwork(t *testing.T) {
	t.Parallel()
	got := rulesOf(NewPlan(clustertest.TwoNodes(t)), inputChain)
	want := []string{
		"-m conntrack --ctstate ESTABLISHED,RELATED -m comment --comment podpaths: replies to this machine's connections -j RETURN",
		"-i lo -m comment --comment podpaths: the cluster's own link -j RETURN",
		"-i podpaths-svc -m comment --comment podpaths: the cluster's own link -j RETURN",
		"-i cni0 -m comment --comment podpaths: the cluster's own link -j RETURN",
		"-i podpaths-b -m comment --comment podpaths: the cluster's own link -j RETURN",
		"-i podpaths-out -m comment --comment podpaths: the cluster's own link -j RETURN",
		"-p tcp -m multiport --dports 2379:2381,6443,7472,10248:10259,30000:32767 -m comment --comment podpaths: no cluster port for the network -j DROP",
		"-p udp --dport 30000:32767 -m comment --comment podpaths: no cluster port for the network -j DROP",
	}
	if !slices.Equal(got, want) {
		t.Errorf("input chain:\n got %q\nwant %q", got, want)
	}
}
