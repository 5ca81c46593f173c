//go:build e2e

package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/podpaths/podpaths/e2e/internal/cluster"
	"github.com/podpaths/podpaths/platform/report"
)

// TestCrossNode proves each node's reachability with the node names of both
// ends: pod to pod across nodes, per-pod headless names of pods on the other
// node, the ClusterIP from pods on every node, and each node's NodePort from
// a client on another node.
func TestCrossNode(t *testing.T) {
	r := begin(t, 5*time.Minute)
	nodes := r.needTwoNodes(t, "cross-node paths need two nodes")
	probes := map[string]*cluster.Probe{}
	for _, n := range nodes {
		probes[n.Name] = r.startProbe(t, cluster.ProbeOptions{Node: n.Name})
	}
	backends := r.readyEndpoints(t, "backend")
	r.awaitPerPodNames(t, probes[nodes[0].Name], backends)
	for _, from := range nodes {
		for _, b := range backends {
			if b.Node == from.Name {
				continue
			}
			t.Run("pod-to-pod/"+from.Name+"/"+b.Pod+"@"+b.Node, func(t *testing.T) {
				u := serviceURL(b.IP, backendPort, "/whoami")
				c := probeGet(t, r.ctx, probes[from.Name], u, "--timeout", callTimeout.String()).Calls[0]
				wantAnswer(t, c, "pod on "+from.Name+" -> pod IP "+u, b.Pod, b.Node)
			})
			t.Run("headless/"+from.Name+"/"+b.Pod+"@"+b.Node, func(t *testing.T) {
				u := serviceURL(b.Pod+"."+r.fqdn("backend-headless"), backendPort, "/whoami")
				c := probeGet(t, r.ctx, probes[from.Name], u, "--timeout", callTimeout.String()).Calls[0]
				wantAnswer(t, c, "pod on "+from.Name+" -> per-pod name "+u, b.Pod, b.Node)
			})
		}
		t.Run("clusterip-from/"+from.Name, func(t *testing.T) {
			u := serviceURL(r.fqdn("backend"), backendPort, "/whoami")
			c := probeGet(t, r.ctx, probes[from.Name], u, "--timeout", callTimeout.String()).Calls[0]
			if !c.OK || c.AnsweredBy == nil {
				t.Errorf("pod on %s -> ClusterIP %s: %s", from.Name, u, describeCall(c))
				return
			}
			t.Logf("pod on %s -> ClusterIP %s: answered by %s on %s", from.Name, u, c.AnsweredBy.Pod, c.AnsweredBy.Node)
		})
	}
	port := r.nodePort(t, r.ctx)
	for _, target := range nodes {
		t.Run("nodeport-from-another-node/"+target.Name, func(t *testing.T) {
			client := r.clientOff(t, target)
			u := "http://" + cluster.NodePortAddr(target.IP, port) + "/whoami"
			out, err := client.get(r.ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			if c := out.Calls[0]; !c.OK || c.AnsweredBy == nil {
				t.Errorf("GET %s (NodePort on %s) from %s: %s", u, target.Name, client.what, describeCall(c))
			}
		})
	}
}

// wantAnswer fails unless a call was answered by pod on node.
func wantAnswer(t *testing.T, c report.ProbeCall, what, pod, node string) {
	t.Helper()
	if !c.OK || c.AnsweredBy == nil || c.AnsweredBy.Pod != pod || c.AnsweredBy.Node != node {
		t.Errorf("%s: %s; want an answer from %s on %s", what, describeCall(c), pod, node)
		return
	}
	t.Logf("%s: answered by %s on %s", what, pod, node)
}

// clientOff is a client outside node target that the local cluster and kind
// both have: on the local cluster, another node's network namespace (node B
// for node A, node A, which is this machine, for node B); on kind, this
// machine, which is no node. From a node's own host, or from a pod, kube-proxy
// treats a NodePort call as local traffic, which externalTrafficPolicy
// Local does not restrict, so neither can show what it does.
func (r *run) clientOff(t *testing.T, target cluster.Node) *outsideClient {
	t.Helper()
	if r.env.OnNode != "" && target.Name == r.env.OnNode {
		for _, n := range r.env.Nodes {
			if o := r.env.ClientOn(n); o != nil && n.Name != target.Name {
				return &outsideClient{what: "node " + n.Name + "'s network namespace", ip: o.IP,
					get: func(ctx context.Context, url string) (report.ProbeCalls, error) {
						return o.Get(ctx, url, "--timeout", callTimeout.String())
					}}
			}
		}
		t.Skipf("no other node with a network namespace to call node %s from", target.Name)
	}
	src, err := sourceIP(r.ctx, target.IP)
	if err != nil {
		t.Fatal(err)
	}
	if r.env.OnNode == "" && r.env.IsNodeSide(src) {
		t.Skipf("this machine reaches node %s from %s, a node address, and is no node of its own", target.Name, src)
	}
	what := "this machine"
	if r.env.OnNode != "" {
		what = "node " + r.env.OnNode + " (this machine)"
	}
	return &outsideClient{what: what, ip: src,
		get: func(ctx context.Context, url string) (report.ProbeCalls, error) {
			return fromHere(ctx, url, callTimeout), nil
		}}
}

// TestExternalTrafficPolicyAcrossNodes proves externalTrafficPolicy with one
// frontend pod on two nodes, each NodePort called from a client outside that
// node: under Cluster the node with the pod answers and nginx sees a node
// address (the node masquerades); under Local (component
// external-traffic-local) the node without a frontend pod drops the call
// (timeout, an expected failure) and the node with one keeps the client's
// own address.
func TestExternalTrafficPolicyAcrossNodes(t *testing.T) {
	r := begin(t, 6*time.Minute)
	nodes := r.needTwoNodes(t, "a node without a frontend pod needs two nodes")
	r.scale(t, cluster.Frontend, 1)
	eps := r.readyEndpoints(t, "frontend-nodeport")
	if len(eps) != 1 {
		t.Fatalf("frontend-nodeport has ready endpoints %+v, want one", eps)
	}
	var home, away cluster.Node
	for _, n := range nodes {
		if n.Name == eps[0].Node {
			home = n
		} else if away.Name == "" {
			away = n
		}
	}
	port := r.nodePort(t, r.ctx)
	homeURL := "http://" + cluster.NodePortAddr(home.IP, port) + "/whoami"
	awayURL := "http://" + cluster.NodePortAddr(away.IP, port) + "/whoami"

	t.Run("cluster/node-with-frontend-sees-a-node-address", func(t *testing.T) {
		client := r.clientOff(t, home)
		c := r.callFrom(r.ctx, t, client, homeURL)
		seen := seenBy(c)
		if !c.OK || seen == client.ip || !r.env.IsNodeSide(seen) {
			t.Errorf("ETP Cluster, %s -> %s (frontend on %s): %s, nginx saw %q; want an answer and a node-side address, not the client's %s",
				client.what, homeURL, home.Name, describeCall(c), seen, client.ip)
		}
		t.Logf("ETP Cluster: %s (%s) -> NodePort on %s: nginx saw %s", client.what, client.ip, home.Name, seen)
	})
	t.Run("cluster/node-without-frontend-forwards", func(t *testing.T) {
		client := r.clientOff(t, away)
		c := r.callFrom(r.ctx, t, client, awayURL)
		if !c.OK || c.AnsweredBy == nil || c.AnsweredBy.Node != home.Name {
			t.Errorf("ETP Cluster, %s -> %s (no frontend on %s): %s; want the frontend on %s to answer", client.what, awayURL, away.Name, describeCall(c), home.Name)
		}
	})

	r.applyComponent(t, "external-traffic-local")
	t.Run("local/node-without-frontend-drops", func(t *testing.T) {
		client := r.clientOff(t, away)
		var c report.ProbeCall
		// kube-proxy applies the new policy within its sync period.
		err := cluster.Eventually(r.ctx, time.Minute, time.Second, func(ctx context.Context) (string, bool) {
			c = r.callFrom(ctx, t, client, awayURL)
			return describeCall(c), !c.OK && c.ErrorKind == report.ErrorTimeout
		})
		if err != nil {
			t.Errorf("ETP Local, %s -> %s (no frontend on %s): %v; want timeout: kube-proxy drops it (expected fail)", client.what, awayURL, away.Name, err)
			return
		}
		t.Logf("ETP Local: %s -> NodePort on %s (no frontend): %s (expected fail)", client.what, away.Name, describeCall(c))
	})
	t.Run("local/node-with-frontend-keeps-the-client-ip", func(t *testing.T) {
		client := r.clientOff(t, home)
		var c report.ProbeCall
		err := cluster.Eventually(r.ctx, time.Minute, time.Second, func(ctx context.Context) (string, bool) {
			c = r.callFrom(ctx, t, client, homeURL)
			return describeCall(c) + ", nginx saw " + seenBy(c), c.OK && seenBy(c) == client.ip
		})
		if err != nil {
			t.Errorf("ETP Local, %s (%s) -> %s (frontend on %s): %v; want nginx to see the client's own address", client.what, client.ip, homeURL, home.Name, err)
			return
		}
		t.Logf("ETP Local: %s (%s) -> NodePort on %s: nginx saw %s", client.what, client.ip, home.Name, seenBy(c))
	})
}

// callFrom makes one call from a client; a client that cannot run fails
// the test.
func (r *run) callFrom(ctx context.Context, t *testing.T, client *outsideClient, url string) report.ProbeCall {
	t.Helper()
	out, err := client.get(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	return out.Calls[0]
}
