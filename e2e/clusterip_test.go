//go:build e2e

package e2e

import (
	"net"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/podpaths/podpaths/e2e/internal/cluster"
	"github.com/podpaths/podpaths/platform/report"
)

// spreadCalls is how many calls a spread makes. kube-proxy picks a backend
// at random per connection; with 3 replicas the chance that 60 calls miss
// one is 3*(2/3)^60, about 1e-10.
const spreadCalls = 60

// TestClusterIP proves the backend Service's virtual IP: found by the
// service-link variables, by every DNS form of its name and as the copy in
// the frontend's configuration, through an ExternalName alias, and balanced
// per connection, not per request.
func TestClusterIP(t *testing.T) {
	r := begin(t, 3*time.Minute)
	svc := r.service(t, r.ctx, "backend")
	clusterIP := svc.Spec.ClusterIP
	want := net.JoinHostPort(clusterIP, strconv.Itoa(backendPort))

	t.Run("env/frontend-report", func(t *testing.T) {
		p := findPath(t, r.pathReport(t), report.FrontendBackendID(report.MethodEnv))
		if !p.OK || len(p.Addresses) == 0 || p.Addresses[0] != want {
			t.Errorf("frontend found the backend by env as %s; want ok at %s, the clusterIP from the API", describePath(p), want)
		}
	})
	t.Run("static/frontend-report", func(t *testing.T) {
		// The frontend's PODPATHS_BACKEND_ADDR is a copy of the address the
		// manifest pins: it must be the one the API server gave the Service.
		p := findPath(t, r.pathReport(t), report.FrontendBackendID(report.MethodStatic))
		if !p.OK || p.AnsweredBy == nil || len(p.Addresses) == 0 || p.Addresses[0] != want {
			t.Errorf("frontend called its copied address as %s; want ok at %s, the clusterIP from the API", describePath(p), want)
		}
	})
	t.Run("alias/frontend-report", func(t *testing.T) {
		// backend-alias is an ExternalName Service: a CNAME for backend's
		// name, and nothing else.
		p := findPath(t, r.pathReport(t), report.IDAlias)
		wantQuery := r.fqdn("backend-alias") + " CNAME " + r.fqdn("backend") + "."
		if !p.OK || p.AnsweredBy == nil || p.Query != wantQuery || len(p.Addresses) == 0 || p.Addresses[0] != clusterIP {
			t.Errorf("frontend called the alias as %s; want ok, query %q, at the clusterIP %s", describePath(p), wantQuery, clusterIP)
		}
	})
	t.Run("alias/probe-pod", func(t *testing.T) {
		a := probeLookup(t, r.ctx, r.probe, "backend-alias")
		if a.ErrorKind != "" || !slices.Equal(a.Addresses, []string{clusterIP}) {
			t.Errorf("lookup backend-alias from pod %s: %v (%s %s); want the clusterIP %s of the Service it names", r.probe.Pod.Name, a.Addresses, a.ErrorKind, a.Error, clusterIP)
		}
	})
	t.Run("env/probe-pod", func(t *testing.T) {
		env := probeEnviron(t, r.ctx, r.probe)
		if env["BACKEND_SERVICE_HOST"] != clusterIP || env["BACKEND_SERVICE_PORT"] != strconv.Itoa(backendPort) {
			t.Errorf("probe pod has BACKEND_SERVICE_HOST=%q BACKEND_SERVICE_PORT=%q; want %s and %d (the Service existed before the pod)",
				env["BACKEND_SERVICE_HOST"], env["BACKEND_SERVICE_PORT"], clusterIP, backendPort)
		}
	})

	// The pod's resolv.conf search list (<ns>.svc.<domain>, svc.<domain>,
	// <domain>) makes the short forms work from a pod in the namespace.
	names := map[string]string{
		"short":  "backend",
		"svc.ns": "backend." + r.env.Opts.Namespace,
		"fqdn":   r.fqdn("backend"),
	}
	for _, form := range []string{"short", "svc.ns", "fqdn"} {
		name := names[form]
		t.Run("dns/"+form, func(t *testing.T) {
			a := probeLookup(t, r.ctx, r.probe, name)
			if a.ErrorKind != "" || !slices.Equal(a.Addresses, []string{clusterIP}) {
				t.Fatalf("lookup %s from pod %s: %v (%s %s); want exactly the clusterIP %s", name, r.probe.Pod.Name, a.Addresses, a.ErrorKind, a.Error, clusterIP)
			}
			u := serviceURL(name, backendPort, "/whoami")
			if c := probeGet(t, r.ctx, r.probe, u).Calls[0]; !c.OK || c.AnsweredBy == nil {
				t.Errorf("GET %s from pod %s: %s", u, r.probe.Pod.Name, describeCall(c))
			}
		})
	}

	t.Run("spread/no-keepalive-reaches-every-replica", func(t *testing.T) {
		ready := endpointPods(r.readyEndpoints(t, "backend"))
		s := r.spread(t, spreadCalls, false)
		got := map[string]bool{}
		for _, p := range s.Pods {
			got[p.Pod] = true
		}
		if len(s.Errors) > 0 || !containsAll(got, ready) {
			t.Errorf("/api/spread n=%d keepalive=false reached %+v with errors %v; want every ready replica %v: each call is a new connection, balanced anew",
				spreadCalls, s.Pods, s.Errors, ready)
		}
	})
	t.Run("spread/keepalive-stays-on-one-pod", func(t *testing.T) {
		const n = 30
		s := r.spread(t, n, true)
		if len(s.Errors) > 0 || len(s.Pods) != 1 || s.Pods[0].Count != n {
			t.Errorf("/api/spread n=%d keepalive=true reached %+v with errors %v; want one pod for all %d: one connection, one pod", n, s.Pods, s.Errors, n)
		}
	})
	t.Run("spread/keepalive-one-connection-from-a-pod", func(t *testing.T) {
		// The same from the probe pod, which also shows the connection:
		// every call reused the first one.
		const n = 20
		out := probeGet(t, r.ctx, r.probe, serviceURL("backend", backendPort, "/whoami"), "--count", strconv.Itoa(n))
		pods, conns := out.Pods(), out.Connections()
		if out.Failed > 0 || len(pods) != 1 || len(conns) != 1 {
			t.Errorf("%d keep-alive calls from pod %s: %d failed, answered by %v over connections %v; want one pod over one connection",
				n, r.probe.Pod.Name, out.Failed, pods, conns)
		}
	})
	t.Run("spread/no-keepalive-from-a-pod", func(t *testing.T) {
		ready := endpointPods(r.readyEndpoints(t, "backend"))
		out := probeGet(t, r.ctx, r.probe, serviceURL("backend", backendPort, "/whoami"), "--count", strconv.Itoa(spreadCalls), "--no-keepalive")
		got := map[string]bool{}
		for pod := range out.Pods() {
			got[pod] = true
		}
		if out.Failed > 0 || !containsAll(got, ready) || len(out.Connections()) != spreadCalls {
			t.Errorf("%d calls without keep-alive from pod %s: %d failed (%v), answered by %v over %d connections; want every ready replica %v, one connection per call",
				spreadCalls, r.probe.Pod.Name, out.Failed, out.ErrorKinds, out.Pods(), len(out.Connections()), ready)
		}
	})
}

// TestSticky proves sessionAffinity ClientIP: backend-sticky sends every
// connection from one client to the same pod, although each call opens a new
// connection that plain backend would balance anew.
func TestSticky(t *testing.T) {
	r := begin(t, time.Minute)
	t.Run("15-calls-one-pod", func(t *testing.T) {
		const n = 15
		u := serviceURL("backend-sticky", backendPort, "/whoami")
		out := probeGet(t, r.ctx, r.probe, u, "--count", strconv.Itoa(n), "--no-keepalive")
		if out.Failed > 0 || len(out.Pods()) != 1 || len(out.Connections()) != n {
			t.Errorf("%d calls to %s from pod %s, each on a new connection: %d failed (%v), answered by %v over %d connections; want one pod for all",
				n, u, r.probe.Pod.Name, out.Failed, out.ErrorKinds, out.Pods(), len(out.Connections()))
		}
	})
	t.Run("frontend-report", func(t *testing.T) {
		p := findPath(t, r.pathReport(t), report.IDSticky)
		if p.Outcome() != report.OutcomePass {
			t.Errorf("frontend -> backend-sticky: %s", describePath(p))
		}
	})
}

func endpointPods(eps []cluster.Endpoint) []string {
	var pods []string
	for _, e := range eps {
		pods = append(pods, e.Pod)
	}
	return pods
}

func containsAll(got map[string]bool, want []string) bool {
	for _, w := range want {
		if !got[w] {
			return false
		}
	}
	return len(want) > 0
}
