//go:build e2e

package e2e

import (
	"context"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/podpaths/podpaths/e2e/internal/cluster"
)

// synSentTimeout is how long conntrack remembers an unanswered SYN
// (net.netfilter.nf_conntrack_tcp_timeout_syn_sent): the window in which a
// reused source port meets the old entry.
const synSentTimeout = 120 * time.Second

// TestRecreatedServiceAnswersAReusedPort calls a Service's ClusterIP while
// the Service is deleted, from a fixed source port, recreates the Service
// with the same ClusterIP and calls again from that port. It does so on
// every node (each has a conntrack table of its own), from a probe pod to a
// Service whose one backend pod is on the same node.
//
// kube-proxy's iptables mode lets the first call's SYN go on unrewritten,
// and conntrack then remembers that flow for two minutes: the second call
// matches it and skips the node's rewrite. It then times out, or, on a node
// in a namespace of its own, reaches the host unrewritten, is rewritten
// there to the backend on the caller's node, and the answer that comes
// straight back over the node's bridge is not one the caller knows. nginx
// reuses ports quickly, so after the nginx test restored the backend
// Service, one call in a few thousand of a later test timed out this way.
// The local cluster drops such packets before conntrack keeps them, as
// kube-proxy's nftables mode does ("Drop traffic to unallocated ClusterIPs").
func TestRecreatedServiceAnswersAReusedPort(t *testing.T) {
	r := begin(t, 5*time.Minute)
	if r.env.Kind != "local" {
		t.Skipf("the %s cluster's kube-proxy may remember a flow to a deleted ClusterIP for %s (iptables mode does); only the local provider's nodes are known to drop it", r.env.Kind, synSentTimeout)
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

// reusePortAcrossRecreate is TestRecreatedServiceAnswersAReusedPort from one
// probe, through a Service of backend pod pod alone.
func (r *run) reusePortAcrossRecreate(t *testing.T, probe *cluster.Probe, pod string) {
	t.Helper()
	// By the label the StatefulSet gives each of its pods.
	svc := r.createService(t, "e2e-reuse-"+cluster.RandSuffix(), map[string]string{"statefulset.kubernetes.io/pod-name": pod})
	url := serviceURL(svc.Spec.ClusterIP, backendPort, "/whoami")
	r.awaitCall(t, probe, url, true)

	if err := r.deleteService(r.ctx, svc.Name); err != nil {
		t.Fatal(err)
	}
	r.awaitCall(t, probe, url, false)
	// Above the ephemeral range (32768-60999), so no other connection of
	// the probe pod holds it.
	port := strconv.Itoa(61000 + rand.IntN(4000))
	if c := probeGet(t, r.ctx, probe, url, "--local-port", port, "--timeout", "2s").Calls[0]; c.OK {
		t.Fatalf("GET %s from port %s with Service %s deleted: %s; want a failure", url, port, svc.Name, describeCall(c))
	}
	goneAt := time.Now()

	if err := r.createWithClusterIP(r.ctx, svc); err != nil {
		t.Fatal(err)
	}
	r.awaitCall(t, probe, url, true)
	c := probeGet(t, r.ctx, probe, url, "--local-port", port, "--timeout", callTimeout.String()).Calls[0]
	since := time.Since(goneAt)
	if since >= synSentTimeout {
		t.Fatalf("the Service took %s to come back, longer than conntrack remembers a flow (%s): the test proves nothing",
			since.Round(time.Second), synSentTimeout)
	}
	if !c.OK || c.AnsweredBy == nil || c.AnsweredBy.Pod != pod {
		t.Errorf("GET %s from %s port %s, %s after a call from that port while Service %s was gone: %s; "+
			"want an answer from %s: the node's conntrack still holds the unrewritten flow of that call",
			url, probe.Pod.Name, port, since.Round(time.Second), svc.Name, describeCall(c), pod)
	}
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
