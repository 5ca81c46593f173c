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
		{ID: "frontend-backend-env", From: "frontend", To: "backend", Method: report.MethodEnv, OK: true, LatencyMS: 1500},
		{ID: "frontend-backend-dns", From: "frontend", To: "backend", Method: report.MethodDNS, OK: true, LatencyMS: 2},
		// Per-pod path ids share one series: the label is from-to.
		{ID: "frontend-backend-headless-backend-0", From: "frontend", To: "backend", Method: report.MethodHeadless, OK: true, LatencyMS: 3},
		{ID: "frontend-backend-headless-backend-1", From: "frontend", To: "backend", Method: report.MethodHeadless, ErrorKind: report.ErrorTimeout, LatencyMS: 200},
		{ID: "frontend-backend-env", From: "frontend", To: "backend", Method: report.MethodEnv, ErrorKind: report.ErrorUnconfigured},
		{ID: "backend-sidecar-localhost", From: "backend", To: "sidecar", Method: report.MethodLocalhost, ErrorKind: report.ErrorRefused, Expected: report.ExpectFail},
	} {
		m.Observe(p)
	}

	want := `
# HELP podpaths_path_requests_total Calls made to peers, by path (from-to), discovery method and outcome.
# TYPE podpaths_path_requests_total counter
podpaths_path_requests_total{method="dns",outcome="ok",path="frontend-backend"} 1
podpaths_path_requests_total{method="env",outcome="ok",path="frontend-backend"} 1
podpaths_path_requests_total{method="env",outcome="skipped",path="frontend-backend"} 1
podpaths_path_requests_total{method="headless",outcome="failed",path="frontend-backend"} 1
podpaths_path_requests_total{method="headless",outcome="ok",path="frontend-backend"} 1
podpaths_path_requests_total{method="localhost",outcome="ok",path="backend-sidecar"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "podpaths_path_requests_total"); err != nil {
		t.Errorf("podpaths_path_requests_total: %v", err)
	}

	// Skipped paths made no call, so they have no latency to record.
	if got := testutil.CollectAndCount(reg, "podpaths_path_request_duration_seconds"); got != 4 {
		t.Errorf("podpaths_path_request_duration_seconds series = %d, want 4 (env, dns, headless, localhost)", got)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather error = %v", err)
	}
	found := false
	for _, mf := range mfs {
		if mf.GetName() != "podpaths_path_request_duration_seconds" {
			continue
		}
		for _, metric := range mf.GetMetric() {
			labels := make(map[string]string)
			for _, l := range metric.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["method"] != "env" {
				continue
			}
			found = true
			h := metric.GetHistogram()
			// 1500 ms recorded in seconds; the skipped env call adds nothing.
			if h.GetSampleCount() != 1 || h.GetSampleSum() != 1.5 {
				t.Errorf("env latency histogram = count %d sum %v, want 1 and 1.5 (seconds)", h.GetSampleCount(), h.GetSampleSum())
			}
		}
	}
	if !found {
		t.Errorf("no podpaths_path_request_duration_seconds series with method=env")
	}
}
