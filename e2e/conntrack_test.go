//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/podpaths/podpaths/e2e/internal/cluster"
	"github.com/podpaths/podpaths/lab/kindlab"
	"github.com/podpaths/podpaths/platform/report"
)

// synSentTimeout is how long conntrack remembers an unanswered SYN
// (net.netfilter.nf_conntrack_tcp_timeout_syn_sent): the window in which a
// reused source port meets the old entry.
const synSentTimeout = 120 * time.Second

// TestRecreatedServiceAndAReusedPort calls a Service's ClusterIP while the
// Service is deleted, from a fixed source port, recreates the Service with
// the same ClusterIP and calls again from that port. It does so on every
// node (each has a conntrack table of its own), from a probe pod to a
// Service whose one backend pod is on the same node.
//
// kube-proxy's iptables mode lets the first call's SYN go on unrewritten,
// and conntrack then remembers that flow for two minutes: the second call
// matches it and skips the node's rewrite. On kind, whose kube-proxy runs in
// that mode, the second call must fail (the trap the workshop's exercise 4
// teaches), and work once the node forgets the flow. The local cluster drops
// such packets before conntrack keeps them, as kube-proxy's nftables mode
// does ("Drop traffic to unallocated ClusterIPs"), so there the second call
// must work at once. Without that, on a node in a namespace of its own, the
// packet reaches the host unrewritten, is rewritten there, and the answer
// that comes straight back over the node's bridge is not one the caller
// knows; nginx reuses ports quickly, so one call in a few thousand of a
// later test timed out this way.
func TestRecreatedServiceAndAReusedPort(t *testing.T) {
	r := begin(t, 5*time.Minute)
	if r.env.Kind != "local" && r.env.Kind != "kind" {
		t.Skipf("how the %s cluster's kube-proxy treats a flow to a deleted ClusterIP is not known", r.env.Kind)
	}
	backends := map[string]string{} // node -> a backend pod on it
	for _, p := range r.pods(t, cluster.Backend) {
		backends[p.Spec.NodeName] = p.Name
	}
	for _, n := range r.env.SchedulableNodes() {
		t.Run(n.Name, func(t *testing.T) {
			pod, ok := backends[n.Name]
			if !ok {
				t.Skipf("no backend pod on node %s", n.Name)
			}
			probe := r.startProbe(t, cluster.ProbeOptions{Node: n.Name})
			r.reusePortAcrossRecreate(t, probe, pod)
		})
	}
}

// reusePortAcrossRecreate is TestRecreatedServiceAndAReusedPort from one
// probe, through a Service of backend pod pod alone.
func (r *run) reusePortAcrossRecreate(t *testing.T, probe *cluster.Probe, pod string) {
	t.Helper()
	// By the label the StatefulSet gives each of its pods.
	svc := r.createService(t, "e2e-reuse-"+cluster.RandSuffix(), map[string]string{"statefulset.kubernetes.io/pod-name": pod})
	if r.env.Kind == "kind" {
		r.skipUnlessKeptInNode(t, probe.Pod.Spec.NodeName, svc.Spec.ClusterIP)
	}
	// Above the ephemeral range (32768-60999), so no other connection of
	// the probe pod holds it.
	u := reusedPort{probe: probe, pod: pod, ip: svc.Spec.ClusterIP, port: strconv.Itoa(61000 + rand.IntN(4000)),
		url: serviceURL(svc.Spec.ClusterIP, backendPort, "/whoami")}
	r.awaitCall(t, probe, u.url, true)

	if err := r.deleteService(r.ctx, svc.Name); err != nil {
		t.Fatal(err)
	}
	r.awaitCall(t, probe, u.url, false)
	if c := u.get(t, r, "2s"); c.OK {
		t.Fatalf("GET %s from port %s with Service %s deleted: %s; want a failure", u.url, u.port, svc.Name, describeCall(c))
	}
	goneAt := time.Now()

	if err := r.createWithClusterIP(r.ctx, svc); err != nil {
		t.Fatal(err)
	}
	r.awaitCall(t, probe, u.url, true)
	c := u.get(t, r, callTimeout.String())
	since := time.Since(goneAt)
	if since >= synSentTimeout {
		t.Fatalf("the Service took %s to come back, longer than conntrack remembers a flow (%s): the test proves nothing",
			since.Round(time.Second), synSentTimeout)
	}
	call := fmt.Sprintf("GET %s from %s port %s, %s after a call from that port while Service %s was gone",
		u.url, probe.Pod.Name, u.port, since.Round(time.Second), svc.Name)
	if r.env.Kind == "kind" {
		r.fallsIntoTheTrap(t, u, c, call)
		return
	}
	if !u.answered(c) {
		t.Errorf("%s: %s; want an answer from %s: the node's conntrack still holds the unrewritten flow of that call",
			call, describeCall(c), pod)
	}
}

// reusedPort is a probe's calls to a Service of pod alone, at ip, from one
// fixed source port.
type reusedPort struct {
	probe              *cluster.Probe
	pod, ip, port, url string
}

// get calls the Service from the port.
func (u reusedPort) get(t *testing.T, r *run, timeout string) report.ProbeCall {
	t.Helper()
	return probeGet(t, r.ctx, u.probe, u.url, "--local-port", u.port, "--timeout", timeout).Calls[0]
}

// answered reports whether c reached the Service's pod.
func (u reusedPort) answered(c report.ProbeCall) bool {
	return c.OK && c.AnsweredBy != nil && c.AnsweredBy.Pod == u.pod
}

// fallsIntoTheTrap checks kind's iptables mode: the call c from the reused
// port failed on the remembered flow, and once the node forgets that flow a
// call from the same port reaches the pod. How it fails is where the node
// sends the unrewritten packet: out through its default route it times out
// (a user's kind); to CI's empty bridge, no neighbour answers and the
// kernel reports "no route to host" after about 3 s.
func (r *run) fallsIntoTheTrap(t *testing.T, u reusedPort, c report.ProbeCall, call string) {
	t.Helper()
	if c.OK {
		t.Errorf("%s: %s; want a failure: kube-proxy's iptables mode leaves the unrewritten flow in conntrack", call, describeCall(c))
	}
	node := u.probe.Pod.Spec.NodeName
	n, err := kindlab.ForgetUnrewrittenFlows(r.ctx, node, u.ip)
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Errorf("node %s held no unrewritten flow to %s after %s", node, u.ip, call)
	}
	after := u.get(t, r, callTimeout.String())
	if !u.answered(after) {
		t.Errorf("GET %s from port %s once node %s forgot %d unrewritten flow(s): %s; want an answer from %s",
			u.url, u.port, node, n, describeCall(after), u.pod)
	}
	t.Logf("%s: %s; node %s forgot %d unrewritten flow(s) to %s, then the port was answered: %s",
		call, describeCall(c), node, n, u.ip, describeCall(after))
}

// skipUnlessKeptInNode skips when kind node node would send a call to ip,
// a ClusterIP about to be deleted, out through its default route: towards
// this machine's uplink, where this test sends nothing. CI's node image
// routes kind's Service range to an empty bridge in every node.
func (r *run) skipUnlessKeptInNode(t *testing.T, node, ip string) {
	t.Helper()
	route, leaves, err := kindlab.RouteFromNode(r.ctx, node, ip)
	if err != nil {
		t.Fatal(err)
	}
	if leaves {
		t.Skipf("node %s would send a call to a deleted ClusterIP off the node (%s); this test sends none", node, route)
	}
}

// forgetUnrewrittenFlows clears, in every node of a kind cluster, the flows
// that calls to ip left while no Service held it (see
// kindlab.ForgetUnrewrittenFlows): a test that brings a Service back with
// its old ClusterIP must not leave that trap to the tests after it. The
// local cluster's nodes drop such calls before conntrack keeps them.
func (r *run) forgetUnrewrittenFlows(ctx context.Context, ip string) error {
	if r.env.Kind != "kind" {
		return nil
	}
	for _, n := range r.env.Nodes {
		if _, err := kindlab.ForgetUnrewrittenFlows(ctx, n.Name, ip); err != nil {
			return err
		}
	}
	return nil
}

// awaitCall waits until a call from probe to url, from any port, works (ok)
// or fails (!ok): the node's kube-proxy has applied the change.
func (r *run) awaitCall(t *testing.T, probe *cluster.Probe, url string, ok bool) {
	t.Helper()
	err := cluster.Eventually(r.ctx, time.Minute, 500*time.Millisecond, func(ctx context.Context) (string, bool) {
		out, err := probe.Get(ctx, url, "--timeout", "2s")
		if err != nil {
			return err.Error(), false
		}
		return "GET " + url + " from " + probe.Pod.Name + ": " + describeCall(out.Calls[0]), out.Calls[0].OK == ok
	})
	if err != nil {
		t.Fatalf("waiting for calls to %s to %s: %v", url, map[bool]string{true: "work", false: "fail"}[ok], err)
	}
}
