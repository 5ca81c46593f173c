//go:build e2e

package e2e

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/podpaths/podpaths/e2e/internal/cluster"
	"github.com/podpaths/podpaths/lab/manifest"
	"github.com/podpaths/podpaths/platform/report"
)

// needTwoNodes skips a test that needs two schedulable nodes on a smaller
// cluster, saying why. These tests run unchanged on kind (two workers) and
// on the two-node local cluster, where none is skipped.
func (r *run) needTwoNodes(t *testing.T, why string) []cluster.Node {
	t.Helper()
	const n = 2
	nodes := r.env.SchedulableNodes()
	if len(nodes) < n {
		var names []string
		for _, node := range nodes {
			names = append(names, node.Name)
		}
		t.Skipf("needs %d schedulable nodes, the cluster has %d %v: %s", n, len(nodes), names, why)
	}
	return nodes
}

// TestMultiNode proves what only shows across nodes: internalTrafficPolicy
// Local serves only the caller's own node, and a ClusterIP spreads calls
// over backends on the caller's node and on others.
func TestMultiNode(t *testing.T) {
	r := begin(t, 6*time.Minute)

	t.Run("spread-same-and-other-node", func(t *testing.T) {
		r.needTwoNodes(t, "same-node and other-node answers need backends on two nodes")
		byNode := map[string]int{}
		for _, e := range r.readyEndpoints(t, "backend") {
			byNode[e.Node]++
		}
		if len(byNode) < 2 {
			t.Fatalf("backend pods all run on %v; the topology spread should put them on at least two nodes", sortedKeys(byNode))
		}
		node := sortedKeys(byNode)[0]
		p := r.startProbe(t, cluster.ProbeOptions{Node: node})
		out := probeGet(t, r.ctx, p, serviceURL("backend", backendPort, "/whoami"), "--count", strconv.Itoa(spreadCalls), "--no-keepalive")
		same, other := 0, 0
		for _, c := range out.Calls {
			switch {
			case c.AnsweredBy == nil:
			case c.AnsweredBy.Node == node:
				same++
			default:
				other++
			}
		}
		t.Logf("%d calls from a pod on %s: %d answered on the same node, %d on other nodes, %d failed", spreadCalls, node, same, other, out.Failed)
		if out.Failed > 0 || same == 0 || other == 0 {
			t.Errorf("%d calls from a pod on %s: same node %d, other nodes %d, failed %d (%v); want answers from both, none failed",
				spreadCalls, node, same, other, out.Failed, out.ErrorKinds)
		}
	})

	// After the spread: it scales the backend to one replica until the test
	// ends.
	t.Run("itp-local", func(t *testing.T) {
		nodes := r.needTwoNodes(t, "internalTrafficPolicy Local from another node needs a node without a backend pod")
		// One backend replica, so that some node has none.
		r.scale(t, cluster.Backend, 1)
		eps := r.readyEndpoints(t, "backend")
		if len(eps) != 1 {
			t.Fatalf("backend has ready endpoints %+v, want one", eps)
		}
		home := eps[0].Node
		var other string
		for _, n := range nodes {
			if n.Name != home {
				other = n.Name
				break
			}
		}
		r.createITPLocalService(t)
		u := serviceURL("backend-local", backendPort, "/whoami")

		t.Run("same-node-answers", func(t *testing.T) {
			p := r.startProbe(t, cluster.ProbeOptions{Node: home})
			// The Service is new: kube-proxy on that node programs it within
			// its sync period, and until then the ClusterIP leads nowhere.
			start := time.Now()
			var c report.ProbeCall
			err := cluster.Eventually(r.ctx, time.Minute, time.Second, func(ctx context.Context) (string, bool) {
				c = probeGet(t, ctx, p, u, "--timeout", callTimeout.String()).Calls[0]
				return describeCall(c), c.OK && c.AnsweredBy != nil && c.AnsweredBy.Node == home
			})
			if err != nil {
				t.Errorf("GET %s from a pod on %s, the backend's node: %v; want an answer from that node", u, home, err)
				return
			}
			t.Logf("GET %s from a pod on %s answered by %s on %s, %s after the first try",
				u, home, c.AnsweredBy.Pod, c.AnsweredBy.Node, time.Since(start).Round(time.Second))
		})
		t.Run("other-node-times-out", func(t *testing.T) {
			p := r.startProbe(t, cluster.ProbeOptions{Node: other})
			c := probeGet(t, r.ctx, p, u, "--timeout", callTimeout.String()).Calls[0]
			if c.OK || c.ErrorKind != report.ErrorTimeout {
				t.Errorf("GET %s from a pod on %s, a node without a backend: %s; want timeout: kube-proxy drops it (expected fail)", u, other, describeCall(c))
			}
		})
	})
}

// createITPLocalService creates the Service that the internal-traffic-local
// component adds (backend-local, internalTrafficPolicy Local), without the
// component's change to the frontend, which would roll it for nothing here.
func (r *run) createITPLocalService(t *testing.T) {
	t.Helper()
	changes, err := manifest.ComponentChanges(r.env.Opts.DeployDir, "internal-traffic-local")
	if err != nil {
		t.Fatal(err)
	}
	var created []manifest.Change
	for _, c := range changes {
		if c.New {
			created = append(created, c)
		}
	}
	cl := r.env.Manifests()
	r.undo("backend-local", time.Minute, func(ctx context.Context) error { return cl.RevertChanges(ctx, created) })
	if err := cl.ApplyChanges(r.ctx, created); err != nil {
		t.Fatal(err)
	}
	if err := r.env.WaitServiceEndpoints(r.ctx, "backend-local", 1, time.Minute); err != nil {
		t.Fatal(err)
	}
}
