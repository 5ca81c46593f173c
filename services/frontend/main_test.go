package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/podpaths/podpaths/platform/identity"
	"github.com/podpaths/podpaths/platform/localdns"
	"github.com/podpaths/podpaths/platform/progtest"
	"github.com/podpaths/podpaths/platform/report"
	"github.com/podpaths/podpaths/platform/serve"
)

// run is the service as main runs it, for tests to start with an
// environment of their own.
var run = serve.Program(service, version, loadConfig, start)

// startFrontend runs the real frontend against a loopback DNS server that
// serves the backend Service's name, and one backend pod behind it.
func startFrontend(t *testing.T, extraEnv ...string) *progtest.Program {
	t.Helper()
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serve.JSON(w, http.StatusOK, identity.ForRequest(report.Identity{Service: "backend", Pod: "backend-0", Node: "n1"}, r))
	}))
	t.Cleanup(backend.Close)
	host, port, err := net.SplitHostPort(backend.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	zone := localdns.NewZone("cluster.local")
	zone.SetA("backend.podpaths.svc.cluster.local", host)
	dns, err := localdns.Start("127.0.0.1:0", zone)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dns.Close() }) //nolint:errcheck
	env := append([]string{
		"PODPATHS_APP_ADDR=127.0.0.1:0", "PODPATHS_ADMIN_ADDR=127.0.0.1:0", "PODPATHS_DRAIN_DELAY=0s",
		"PODPATHS_DNS_SERVER=" + dns.Addr(), "PODPATHS_NAMESPACE=podpaths", "PODPATHS_BACKEND_PORT=" + port,
		"PODPATHS_NGINX_ADDR=none", "PODPATHS_PEER_TIMEOUT=500ms",
		"BACKEND_SERVICE_HOST=" + host, "BACKEND_SERVICE_PORT=" + port,
	}, extraEnv...)
	return progtest.Start(t, run, env, "app", "admin")
}

func TestFrontendProgram(t *testing.T) {
	t.Parallel()
	p := startFrontend(t)
	app := "http://" + p.Addrs["app"]

	code, _, body := progtest.Get(t, app+"/api/paths")
	var rep report.Report
	if code != http.StatusOK || json.Unmarshal(body, &rep) != nil {
		t.Fatalf("GET /api/paths = %d %s, want 200 with a report", code, body)
	}
	for _, p := range rep.Paths {
		if p.ID == report.FrontendBackendID(report.MethodEnv) || p.ID == report.FrontendBackendID(report.MethodDNS) {
			if !p.OK || p.AnsweredBy == nil || p.AnsweredBy.Pod != "backend-0" {
				t.Errorf("path %s = %+v, want ok, answered by backend-0", p.ID, p)
			}
		}
	}

	tests := []struct {
		path, wantType string
		wantCode       int
		wantIn         string
	}{
		{"/api/spread?n=5&keepalive=true", "application/json", 200, `"count":5`},
		{"/api/spread?n=0", "application/json", 400, `"error":"n must be`},
		{"/api/spread?n=5000", "application/json", 400, `"error":"n must be`},
		{"/api/spread?keepalive=maybe", "application/json", 400, `"error":"keepalive must be`},
		{"/api/links", "application/json", 200, `"BACKEND_SERVICE_HOST"`},
		{"/whoami", "application/json", 200, `"service":"frontend"`},
		{"/", "text/html; charset=utf-8", 200, "<svg"},
		{"/nope", "application/json", 404, `"error"`},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			code, ctype, body := progtest.Get(t, app+tt.path)
			if code != tt.wantCode || ctype != tt.wantType || !strings.Contains(string(body), tt.wantIn) {
				t.Errorf("GET %s = %d %q %.200s, want %d %q containing %q", tt.path, code, ctype, body, tt.wantCode, tt.wantType, tt.wantIn)
			}
		})
	}
}

// TestFrontendProbesOnItsOwn scrapes the real /metrics of a frontend that
// probes every 50 ms: with nobody asking for a report, the working path's
// latencies and the broken path's failures grow by themselves.
func TestFrontendProbesOnItsOwn(t *testing.T) {
	t.Parallel()
	// The headless Service has no SRV records in this DNS: that path fails.
	p := startFrontend(t, "PODPATHS_PROBE_INTERVAL=50ms")
	metrics := "http://" + p.Addrs["admin"] + "/metrics"
	want := []string{
		`podpaths_path_request_duration_seconds_count{family="ipv4",method="dns",path="frontend-backend-dns"} `,
		`podpaths_path_failures_total{error_kind="dns",path="frontend-backend-headless"} `,
	}
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		_, _, body := progtest.Get(t, metrics)
		if counts := countsOf(string(body), want); counts[0] >= 3 && counts[1] >= 3 {
			return
		}
		select {
		case <-deadline:
			t.Fatalf("after 10s of probing every 50ms, /metrics lacks 3 of each of %q:\n%s", want, body)
		case <-tick.C:
		}
	}
}

// countsOf returns the value of each series line that starts with prefix.
func countsOf(metrics string, prefixes []string) []float64 {
	out := make([]float64, len(prefixes))
	for _, line := range strings.Split(metrics, "\n") {
		for i, prefix := range prefixes {
			if v, ok := strings.CutPrefix(line, prefix); ok {
				out[i], _ = strconv.ParseFloat(strings.TrimSpace(v), 64) //nolint:errcheck // a bad number counts as 0
			}
		}
	}
	return out
}

func TestFrontendRejectsBadConfig(t *testing.T) {
	t.Parallel()
	tests := []struct{ env, wantVar string }{
		{"PODPATHS_BACKEND_METHODS=env,carrier-pigeon", "PODPATHS_BACKEND_METHODS"},
		{"PODPATHS_BACKEND_PORT=70000", "PODPATHS_BACKEND_PORT"},
		{"PODPATHS_BACKEND_PORT=http", "PODPATHS_BACKEND_PORT"},
		{"PODPATHS_NGINX_ADDR=nginx", "PODPATHS_NGINX_ADDR"},
		{"PODPATHS_SPREAD_MAX=0", "PODPATHS_SPREAD_MAX"},
		{"PODPATHS_MAX_REPORTS=0", "PODPATHS_MAX_REPORTS"},
		{"PODPATHS_MAX_REPORTS=many", "PODPATHS_MAX_REPORTS"},
		{"PODPATHS_DRAIN_DELAY=-1s", "PODPATHS_DRAIN_DELAY"},
		{"PODPATHS_PROBE_INTERVAL=-1s", "PODPATHS_PROBE_INTERVAL"},
		{"PODPATHS_PROBE_INTERVAL=often", "PODPATHS_PROBE_INTERVAL"},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			t.Parallel()
			err := run(context.Background(), []string{tt.env}, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.wantVar) {
				t.Errorf("run with %s = %v, want an error naming %s", tt.env, err, tt.wantVar)
			}
		})
	}
}
