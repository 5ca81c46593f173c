package paths

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/podpaths/podpaths/platform/discovery"
	"github.com/podpaths/podpaths/platform/identity"
	"github.com/podpaths/podpaths/platform/localdns"
	"github.com/podpaths/podpaths/platform/probe"
	"github.com/podpaths/podpaths/platform/report"
	"github.com/podpaths/podpaths/platform/serve"
)

const headless = "backend-headless.podpaths.svc.cluster.local"

// fakeBackend answers like a backend pod: /whoami, /api/whoami with a sidecar
// path, and /api/peers.
func fakeBackend(t *testing.T, pod, node string) *httptest.Server {
	t.Helper()
	id := report.Identity{Service: "backend", Pod: pod, Node: node, PodIP: "10.244.0." + pod[len(pod)-1:]}
	mux := http.NewServeMux()
	mux.HandleFunc("/whoami", func(w http.ResponseWriter, r *http.Request) {
		serve.JSON(w, http.StatusOK, identity.ForRequest(id, r))
	})
	mux.HandleFunc("/api/whoami", func(w http.ResponseWriter, _ *http.Request) {
		serve.JSON(w, http.StatusOK, map[string]any{
			"pod": pod, "node": node,
			"sidecar": report.Path{ID: "backend-sidecar-localhost", From: "backend", To: "sidecar", OK: true,
				Method: report.MethodLocalhost, Expected: report.ExpectOK, AnsweredBy: &report.Pod{Pod: pod}},
		})
	})
	mux.HandleFunc("/api/peers", func(w http.ResponseWriter, _ *http.Request) {
		serve.JSON(w, http.StatusOK, report.New(pod, time.Now(), []report.Path{{
			ID: "backend-" + pod + "-backend-x-headless", From: "backend", To: "backend", OK: true,
			Method: report.MethodHeadless, Expected: report.ExpectOK,
		}}))
	})
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// hangingServer accepts connections and never answers.
func hangingServer(t *testing.T) string {
	t.Helper()
	var lc net.ListenConfig
	ln, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { close(done); ln.Close() }) //nolint:errcheck
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { <-done; c.Close() }() //nolint:errcheck
		}
	}()
	return ln.Addr().String()
}

func port(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// cluster is a loopback DNS zone with backends registered as CoreDNS would
// serve them, and a Reporter wired to it.
type cluster struct {
	zone *localdns.Zone
	r    *Reporter
}

func newCluster(t *testing.T, timeout time.Duration, selfNode string, backends map[string]string) *cluster {
	t.Helper()
	zone := localdns.NewZone("cluster.local")
	dns, err := localdns.Start("127.0.0.1:0", zone)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dns.Close() }) //nolint:errcheck
	var srvs []localdns.SRV
	for pod, addr := range backends {
		zone.SetA(pod+"."+headless, "127.0.0.1")
		srvs = append(srvs, localdns.SRV{Target: pod + "." + headless, Port: uint16(port(t, addr))})
	}
	// The Service's "virtual IP" is backend-0 itself: these tests are about
	// discovery, not load balancing.
	svcAddr := backends["backend-0"]
	zone.SetSRV("_http._tcp."+headless, srvs...)
	zone.SetA("backend.podpaths.svc.cluster.local", "127.0.0.1")
	host, _, _ := net.SplitHostPort(svcAddr)
	return &cluster{zone: zone, r: &Reporter{
		Self:   report.Identity{Pod: "frontend-0", Node: selfNode},
		Prober: &probe.Prober{Client: probe.NewClient(probe.ClientOptions{Timeout: timeout, KeepAlive: true}), Timeout: timeout},
		Nested: &probe.Prober{Client: probe.NewClient(probe.ClientOptions{Timeout: 3 * timeout, KeepAlive: true}), Timeout: 3 * timeout},
		Backend: discovery.Peer{Service: "backend", Headless: "backend-headless", PortName: "http",
			Port: port(t, svcAddr), Namespace: "podpaths", Domain: "cluster.local",
			Environ:  map[string]string{"BACKEND_SERVICE_HOST": host, "BACKEND_SERVICE_PORT": strconv.Itoa(port(t, svcAddr))},
			Resolver: discovery.NewResolver(dns.Addr(), timeout)},
		Methods: []report.Method{report.MethodEnv, report.MethodDNS, report.MethodHeadless},
		Metrics: probe.NewMetrics(prometheus.NewRegistry()),
	}}
}

func byID(rep report.Report) map[string]report.Path {
	m := make(map[string]report.Path, len(rep.Paths))
	for _, p := range rep.Paths {
		m[p.ID] = p
	}
	return m
}

func TestReportEveryPathPasses(t *testing.T) {
	t.Parallel()
	b0, b1 := fakeBackend(t, "backend-0", "node-a"), fakeBackend(t, "backend-1", "node-b")
	c := newCluster(t, time.Second, "node-a", map[string]string{"backend-0": b0.Listener.Addr().String(), "backend-1": b1.Listener.Addr().String()})
	c.r.Sticky = "backend"
	rep := c.r.Report(t.Context())

	want := []string{"nginx-frontend-localhost", "nginx-backend-dns", "frontend-backend-env", "frontend-backend-dns",
		"backend-sidecar-localhost", "frontend-backend-headless-backend-0", "frontend-backend-headless-backend-1",
		"frontend-backend-sticky-dns"}
	got := byID(rep)
	for _, id := range want {
		if _, ok := got[id]; !ok {
			t.Errorf("report has no path %q; paths: %v", id, rep.Paths)
		}
	}
	if rep.Summary.Failed != 0 || rep.Summary.Skipped != 2 {
		t.Errorf("summary = %+v, want no failures and 2 skipped (the nginx paths, no nginx configured)", rep.Summary)
	}
	if p := got["frontend-backend-headless-backend-1"]; p.AnsweredBy == nil || p.AnsweredBy.Pod != "backend-1" || p.ToNode != "node-b" || p.FromNode != "node-a" {
		t.Errorf("headless backend-1 = %+v, want answered by backend-1 on node-b from node-a", p)
	}
	if p := got["frontend-backend-env"]; p.Query != "BACKEND_SERVICE_HOST, BACKEND_SERVICE_PORT" || len(p.Addresses) != 1 {
		t.Errorf("env path = query %q addresses %v, want the variable names and one address", p.Query, p.Addresses)
	}
	if p := got["frontend-backend-dns"]; len(p.Hops) != 1 || p.Hops[0].ID != "backend-sidecar-localhost" || !p.Hops[0].OK {
		t.Errorf("dns path hops = %+v, want the answering backend's ok call to its sidecar", p.Hops)
	}
}

func TestReportExplainsMissingServiceLinks(t *testing.T) {
	t.Parallel()
	b0 := fakeBackend(t, "backend-0", "node-a")
	c := newCluster(t, time.Second, "node-a", map[string]string{"backend-0": b0.Listener.Addr().String()})
	c.r.Backend.Environ = map[string]string{}
	p := byID(c.r.Report(t.Context()))["frontend-backend-env"]
	if p.ErrorKind != report.ErrorUnconfigured || p.Outcome() != report.OutcomeSkip || p.Error == "" {
		t.Errorf("env path without BACKEND_SERVICE_HOST = kind %q outcome %q error %q, want unconfigured, skipped, with a reason", p.ErrorKind, p.Outcome(), p.Error)
	}
}

func TestLocalTrafficPolicyExpectation(t *testing.T) {
	t.Parallel()
	b0 := fakeBackend(t, "backend-0", "node-a")
	for _, tt := range []struct {
		node string
		want report.Expectation
	}{{"node-a", report.ExpectOK}, {"node-b", report.ExpectFail}} {
		c := newCluster(t, time.Second, tt.node, map[string]string{"backend-0": b0.Listener.Addr().String()})
		c.r.Local = "backend"
		p := byID(c.r.Report(t.Context()))["frontend-backend-local-dns"]
		if p.Expected != tt.want {
			t.Errorf("frontend on %s, backend on node-a: local path expected %q, want %q", tt.node, p.Expected, tt.want)
		}
	}
}

// TestPreferSameNodeJudgement checks the nearby path against where the
// backends run: the Service here always reaches backend-0, on node-a.
func TestPreferSameNodeJudgement(t *testing.T) {
	t.Parallel()
	b0, b1 := fakeBackend(t, "backend-0", "node-a"), fakeBackend(t, "backend-1", "node-b")
	for _, tt := range []struct {
		name     string
		node     string
		backends map[string]string
		wantOK   bool
	}{
		{name: "answered on the caller's node", node: "node-a", backends: map[string]string{"backend-0": b0.Listener.Addr().String()}, wantOK: true},
		{name: "no backend on the caller's node: the fallback answers", node: "node-b", backends: map[string]string{"backend-0": b0.Listener.Addr().String()}, wantOK: true},
		{name: "another node answered while one runs here", node: "node-b",
			backends: map[string]string{"backend-0": b0.Listener.Addr().String(), "backend-1": b1.Listener.Addr().String()}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newCluster(t, time.Second, tt.node, tt.backends)
			c.r.Nearby = "backend"
			p := byID(c.r.Report(t.Context()))[report.IDNearby]
			if p.OK != tt.wantOK || p.Expected != report.ExpectOK || (!tt.wantOK && p.ErrorKind != report.ErrorOther) {
				t.Errorf("frontend on %s: nearby path ok %v kind %q (%s), want ok %v", tt.node, p.OK, p.ErrorKind, p.Error, tt.wantOK)
			}
		})
	}
}

// TestAliasPath checks the ExternalName path: the query shows the CNAME the
// alias followed, and the call reaches the backend Service's address.
func TestAliasPath(t *testing.T) {
	t.Parallel()
	b0 := fakeBackend(t, "backend-0", "node-a")
	c := newCluster(t, time.Second, "node-a", map[string]string{"backend-0": b0.Listener.Addr().String()})
	c.zone.SetCNAME("backend-alias.podpaths.svc.cluster.local", "backend.podpaths.svc.cluster.local")
	c.r.Alias = "backend-alias"
	p := byID(c.r.Report(t.Context()))[report.IDAlias]
	wantQuery := "backend-alias.podpaths.svc.cluster.local CNAME backend.podpaths.svc.cluster.local."
	if !p.OK || p.Query != wantQuery || p.AnsweredBy == nil || p.AnsweredBy.Pod != "backend-0" {
		t.Errorf("alias path = ok %v query %q answered by %v (%s), want ok, query %q, backend-0", p.OK, p.Query, p.AnsweredBy, p.Error, wantQuery)
	}

	c.zone.SetCNAME("backend-alias.podpaths.svc.cluster.local", "gone.podpaths.svc.cluster.local")
	p = byID(c.r.Report(t.Context()))[report.IDAlias]
	if p.OK || p.ErrorKind != report.ErrorDNS || p.Query != "backend-alias.podpaths.svc.cluster.local CNAME gone.podpaths.svc.cluster.local." {
		t.Errorf("alias to a missing name = ok %v kind %q query %q, want dns and the CNAME it followed", p.OK, p.ErrorKind, p.Query)
	}
}

func TestReportIsBoundedWhenEveryPeerHangs(t *testing.T) {
	t.Parallel()
	const timeout = 100 * time.Millisecond
	hang := hangingServer(t)
	c := newCluster(t, timeout, "node-a", map[string]string{"backend-0": hang, "backend-1": hang})
	c.r.Nginx = hangingServer(t)
	c.r.Sticky = "backend"

	// The bound is the worst case of the design: nested calls take three
	// timeouts, and a second round (siblings) cannot start without an answer.
	bound := 10 * timeout
	ctx, cancel := context.WithTimeout(t.Context(), bound)
	defer cancel()
	start := time.Now()
	rep := c.r.Report(ctx)
	if elapsed := time.Since(start); elapsed > bound+time.Second {
		t.Fatalf("Report with every peer hanging took %v, want it bounded by about %v", elapsed, bound)
	}
	for _, p := range rep.Paths {
		if p.OK {
			t.Errorf("path %s is ok, but every peer hangs", p.ID)
		}
	}
	for _, id := range []string{"nginx-frontend-localhost", "frontend-backend-dns", "frontend-backend-headless-backend-0"} {
		if p := byID(rep)[id]; p.ErrorKind != report.ErrorTimeout {
			t.Errorf("%s: error kind %q (%s), want timeout", id, p.ErrorKind, p.Error)
		}
	}
}

func TestReportFollowsABackendThatDisappears(t *testing.T) {
	t.Parallel()
	b0, b1 := fakeBackend(t, "backend-0", "node-a"), fakeBackend(t, "backend-1", "node-a")
	c := newCluster(t, time.Second, "node-a", map[string]string{"backend-0": b0.Listener.Addr().String(), "backend-1": b1.Listener.Addr().String()})
	if rep := c.r.Report(t.Context()); rep.Summary.Failed != 0 {
		t.Fatalf("before: summary %+v, want no failures", rep.Summary)
	}

	// backend-1 dies; until its record is withdrawn it is reported refused.
	b1.Close()
	if p := byID(c.r.Report(t.Context()))["frontend-backend-headless-backend-1"]; p.ErrorKind != report.ErrorRefused {
		t.Errorf("backend-1 gone, still in DNS: kind %q, want refused", p.ErrorKind)
	}

	// Kubernetes then drops it from the headless Service's records.
	c.zone.SetSRV("_http._tcp."+headless, localdns.SRV{Target: "backend-0." + headless, Port: uint16(port(t, b0.Listener.Addr().String()))})
	rep := c.r.Report(t.Context())
	if _, ok := byID(rep)["frontend-backend-headless-backend-1"]; ok || rep.Summary.Failed != 0 {
		t.Errorf("backend-1 withdrawn from DNS: report %+v, want no backend-1 path and no failures", rep.Summary)
	}
}
