//go:build e2e

package e2e

import (
	"testing"
	"time"

	"github.com/podpaths/podpaths/e2e/internal/cluster"
	"github.com/podpaths/podpaths/platform/report"
)

// TestServiceWithoutEndpoints scales the backend to 0: a Service with no
// ready endpoint is refused at once (kube-proxy rejects the SYN), not left
// to time out, so a client learns it immediately.
func TestServiceWithoutEndpoints(t *testing.T) {
	r := begin(t, 5*time.Minute)
	r.scale(t, cluster.Backend, 0)
	if err := r.env.WaitServiceEndpoints(r.ctx, "backend", 0, time.Minute); err != nil {
		t.Fatal(err)
	}

	for _, svc := range []string{"backend", "backend-sticky"} {
		t.Run("probe-pod/"+svc, func(t *testing.T) {
			u := serviceURL(svc, backendPort, "/whoami")
			c := probeGet(t, r.ctx, r.probe, u, "--timeout", callTimeout.String()).Calls[0]
			if c.ErrorKind != report.ErrorRefused {
				t.Errorf("GET %s from pod %s with no backend pod: %s; want refused, not a timeout", u, r.probe.Pod.Name, describeCall(c))
			}
		})
	}
	// The frontend calls the Service's ClusterIP by every method at once.
	// The node sends each rejection as an ICMP error, and the kernel limits
	// those per destination (a burst of 6, then one a second). The frontend's
	// own checks every 10 s draw on the same allowance, so a report may find
	// it spent: its rows are refused while it lasts and time out after. The
	// probe pod above, with an allowance of its own, shows the refusal.
	t.Run("frontend-report", func(t *testing.T) {
		rep := r.pathReport(t)
		for _, id := range []string{
			report.FrontendBackendID(report.MethodEnv), report.FrontendBackendID(report.MethodDNS),
			report.FrontendBackendID(report.MethodStatic), report.IDAlias, report.IDSticky, report.IDNearby,
		} {
			p := findPath(t, rep, id)
			if p.OK || (p.ErrorKind != report.ErrorRefused && p.ErrorKind != report.ErrorTimeout) {
				t.Errorf("%s with no backend pod: %s; want refused, or a timeout where the kernel rate-limited the rejection", id, describePath(p))
			}
		}
	})
}
