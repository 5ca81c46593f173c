//go:build e2e

package e2e

import (
	"strconv"
	"testing"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podpaths/podpaths/e2e/internal/cluster"
	"github.com/podpaths/podpaths/platform/report"
)

// TestPreferSameNode proves trafficDistribution: PreferSameNode on the
// backend-nearby Service: the EndpointSlice controller hints every ready
// endpoint for its own node, and new connections from a pod on a node stay
// on that node when it runs a backend, and cross to another when it does
// not (the fallback that internalTrafficPolicy: Local lacks).
func TestPreferSameNode(t *testing.T) {
	r := begin(t, 3*time.Minute)
	const service = "backend-nearby"
	t.Run("hints", func(t *testing.T) {
		list, err := r.env.Client.DiscoveryV1().EndpointSlices(r.env.Opts.Namespace).List(r.ctx,
			metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + service})
		if err != nil {
			t.Fatal(err)
		}
		ready := 0
		for _, s := range list.Items {
			for _, e := range s.Endpoints {
				if e.Conditions.Ready == nil || !*e.Conditions.Ready {
					continue
				}
				ready++
				if e.NodeName == nil || e.Hints == nil || len(e.Hints.ForNodes) != 1 || e.Hints.ForNodes[0].Name != *e.NodeName {
					t.Errorf("endpoint %v of %s: node %v, hints %+v; want a hint for its own node", e.Addresses, service, e.NodeName, e.Hints)
				}
			}
		}
		if ready == 0 {
			t.Errorf("%s has no ready endpoint", service)
		}
	})

	backendsOn := map[string]int{}
	for _, p := range r.pods(t, cluster.Backend) {
		backendsOn[p.Spec.NodeName]++
	}
	for _, n := range r.env.SchedulableNodes() {
		t.Run("from/"+n.Name, func(t *testing.T) {
			probe := r.startProbe(t, cluster.ProbeOptions{Node: n.Name})
			u := serviceURL(service, backendPort, "/whoami")
			out := probeGet(t, r.ctx, probe, u, "--count", strconv.Itoa(spreadCalls), "--no-keepalive")
			local := backendsOn[n.Name] > 0
			for _, c := range out.Calls {
				if !c.OK || c.AnsweredBy == nil || (c.AnsweredBy.Node == n.Name) != local {
					t.Errorf("call %d from node %s (%d backends here) to %s: %s; want every call answered %s",
						c.Seq, n.Name, backendsOn[n.Name], u, describeCall(c), map[bool]string{true: "on this node", false: "on another node"}[local])
				}
			}
		})
	}
	t.Run("frontend-report", func(t *testing.T) {
		p := findPath(t, r.pathReport(t), report.IDNearby)
		if !p.OK || p.AnsweredBy == nil {
			t.Errorf("frontend's %s: %s; want ok", report.IDNearby, describePath(p))
		}
	})
}
