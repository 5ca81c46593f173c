package probe_test

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/podpaths/podpaths/platform/probe"
	"github.com/podpaths/podpaths/platform/report"
)

func TestMetricsObserve(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := probe.NewMetrics(reg)
	for _, p := range []report.Path{
		{ID: "frontend-backend-env", Method: report.MethodEnv, Addresses: []string{"10.96.0.20:8080"}, OK: true, LatencyMS: 1500},
		{ID: "frontend-backend-dns", Method: report.MethodDNS, Addresses: []string{"fd00:10:96::20"}, OK: true, LatencyMS: 2},
		{ID: "frontend-backend-headless-backend-1", Method: report.MethodHeadless, Addresses: []string{"10.244.1.5"}, ErrorKind: report.ErrorTimeout, LatencyMS: 200},
		{ID: "frontend-backend-env", Method: report.MethodEnv, ErrorKind: report.ErrorUnconfigured},
		// A path that must fail and does is a pass, not a failure.
		{ID: "frontend-backend-local-dns", Method: report.MethodDNS, Addresses: []string{"10.96.0.30"}, ErrorKind: report.ErrorTimeout, Expected: report.ExpectFail, LatencyMS: 2000},
	} {
		m.Observe(p)
	}

	want := `
# HELP podpaths_path_requests_total Calls made along a path, by path id, discovery method, address family and outcome (ok, failed, skipped).
# TYPE podpaths_path_requests_total counter
podpaths_path_requests_total{family="",method="env",outcome="skipped",path="frontend-backend-env"} 1
podpaths_path_requests_total{family="ipv4",method="dns",outcome="ok",path="frontend-backend-local-dns"} 1
podpaths_path_requests_total{family="ipv4",method="env",outcome="ok",path="frontend-backend-env"} 1
podpaths_path_requests_total{family="ipv4",method="headless",outcome="failed",path="frontend-backend-headless-backend-1"} 1
podpaths_path_requests_total{family="ipv6",method="dns",outcome="ok",path="frontend-backend-dns"} 1
# HELP podpaths_path_failures_total Calls along a path whose result did not match its expectation, by path id and error kind.
# TYPE podpaths_path_failures_total counter
podpaths_path_failures_total{error_kind="timeout",path="frontend-backend-headless-backend-1"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "podpaths_path_requests_total", "podpaths_path_failures_total"); err != nil {
		t.Errorf("counters: %v", err)
	}
	// Skipped paths made no call, so they have no latency to record.
	if got := testutil.CollectAndCount(reg, "podpaths_path_request_duration_seconds"); got != 4 {
		t.Errorf("podpaths_path_request_duration_seconds series = %d, want 4", got)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather error = %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "podpaths_path_request_duration_seconds" {
			continue
		}
		for _, metric := range mf.GetMetric() {
			for _, l := range metric.GetLabel() {
				if l.GetName() == "path" && l.GetValue() == "frontend-backend-env" {
					// 1500 ms recorded in seconds; the skipped call adds nothing.
					if h := metric.GetHistogram(); h.GetSampleCount() != 1 || h.GetSampleSum() != 1.5 {
						t.Errorf("env latency histogram = count %d sum %v, want 1 and 1.5 (seconds)", h.GetSampleCount(), h.GetSampleSum())
					}
				}
			}
		}
	}
}

func TestFamily(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]string{"10.96.0.1:8080": "ipv4", "10.96.0.1": "ipv4", "[fd00::1]:8080": "ipv6", "fd00::1": "ipv6", "": "", "backend:8080": ""} {
		p := report.Path{}
		if addr != "" {
			p.Addresses = []string{addr}
		}
		if got := probe.Family(p); got != want {
			t.Errorf("Family(%q) = %q, want %q", addr, got, want)
		}
	}
}
