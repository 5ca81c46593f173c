package report

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestAnswerJSON pins the field names of every answer besides the path
// report: the dashboard, `make check` and e2e read them.
func TestAnswerJSON(t *testing.T) {
	t.Parallel()
	who := Whoami{Identity: Identity{Service: "backend", Pod: "backend-0", StartedAt: time.Unix(0, 0)},
		ClientIP: "10.244.1.7", Forwarded: map[string]string{"x-real-ip": "172.30.0.1"}}
	tests := []struct {
		name string
		v    any
		want []string
	}{
		{name: "whoami", v: who, want: []string{"client_ip", "forwarded", "hostname", "namespace", "node", "node_ip",
			"pod", "pod_ip", "service", "started_at", "version"}},
		{name: "backend whoami", v: BackendWhoami{Whoami: who, Sidecar: Path{ID: IDSidecar}}, want: []string{"client_ip",
			"forwarded", "hostname", "namespace", "node", "node_ip", "pod", "pod_ip", "service", "sidecar", "started_at", "version"}},
		{name: "spread", v: Spread{N: 2, Pods: []PodCount{{Pod: "backend-0", Count: 2}}}, want: []string{"address",
			"errors", "keepalive", "method", "n", "pods", "query", "service"}},
		{name: "spread that failed", v: Spread{N: 2, Error: "find backend: no such host"}, want: []string{"address",
			"error", "errors", "keepalive", "method", "n", "pods", "query", "service"}},
		{name: "links", v: Links{Links: []Link{{Name: "BACKEND_SERVICE_HOST", Value: "10.96.0.20"}}}, want: []string{"links"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := json.Marshal(tt.v)
			if err != nil {
				t.Fatalf("json.Marshal(%+v) error = %v", tt.v, err)
			}
			if got := keysOf(t, b); !slices.Equal(got, tt.want) {
				t.Errorf("json.Marshal(%s) keys = %v, want %v", tt.name, got, tt.want)
			}
		})
	}
}

func TestDecodeWhoami(t *testing.T) {
	t.Parallel()
	w, err := DecodeWhoami([]byte(`{"pod":"backend-1","pod_ip":"10.244.1.5","node":"b","client_ip":"10.244.0.3"}`))
	if err != nil || *w.AnsweredBy() != (Pod{Pod: "backend-1", PodIP: "10.244.1.5", Node: "b"}) || w.ClientIP != "10.244.0.3" {
		t.Errorf("DecodeWhoami = %+v, %v, want backend-1 on b, client 10.244.0.3", w, err)
	}
	for _, body := range []string{`{"reporter":"frontend-0","paths":[]}`, `<html>502</html>`, ``} {
		if _, err := DecodeWhoami([]byte(body)); err == nil {
			t.Errorf("DecodeWhoami(%q) error = nil, want one: it names no pod", body)
		}
	}
}

func TestDecodeSidecar(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(BackendWhoami{Sidecar: Path{ID: IDSidecar, OK: true}})
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := DecodeSidecar(b); !ok || p.ID != IDSidecar || !p.OK {
		t.Errorf("DecodeSidecar(%s) = %+v, %v, want the sidecar path", b, p, ok)
	}
	for _, body := range []string{`{"pod":"backend-0"}`, `{"sidecar":{}}`, `not json`} {
		if p, ok := DecodeSidecar([]byte(body)); ok {
			t.Errorf("DecodeSidecar(%q) = %+v, true, want false", body, p)
		}
	}
}

func TestDecodeReport(t *testing.T) {
	t.Parallel()
	// The example of docs/design.md.
	body := `{"reporter":"frontend-a","generated_at":"2026-11-26T07:00:00Z","paths":[
	  { "id": "frontend-backend-env", "from": "frontend", "to": "backend", "method": "env",
	    "query": "BACKEND_SERVICE_HOST, BACKEND_SERVICE_PORT", "addresses": ["10.96.4.20:8080"],
	    "ok": true, "status": 200, "error_kind": "", "error": "", "latency_ms": 1.7,
	    "answered_by": {"pod": "backend-1", "pod_ip": "10.244.2.5", "node": "podpaths-worker2"},
	    "client_ip_seen": "10.244.1.7", "hops": [], "expected": "ok" }],
	  "summary":{"total":1,"ok":1,"failed":0,"skipped":0}}`
	r, err := DecodeReport([]byte(body))
	if err != nil {
		t.Fatalf("DecodeReport: %v", err)
	}
	p := r.Paths[0]
	if r.Reporter != "frontend-a" || p.ID != FrontendBackendID(MethodEnv) || p.Method != MethodEnv || !p.OK ||
		p.AnsweredBy == nil || p.AnsweredBy.Node != "podpaths-worker2" || p.Outcome() != OutcomePass {
		t.Errorf("DecodeReport: got %+v", r)
	}
	for body, want := range map[string]string{`{"reporter":"x","paths":[]}`: "no paths", `[`: "decode path report"} {
		if _, err := DecodeReport([]byte(body)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("DecodeReport(%q) error = %v, want one saying %q", body, err, want)
		}
	}
}

func TestDecodeSpread(t *testing.T) {
	t.Parallel()
	s, err := DecodeSpread([]byte(`{"n":3,"pods":[{"pod":"backend-0","node":"a","count":2}],"errors":{"refused":1}}`))
	if err != nil || s.N != 3 || s.Failed() != 1 || s.Pods[0] != (PodCount{Pod: "backend-0", Node: "a", Count: 2}) {
		t.Errorf("DecodeSpread = %+v, %v, want 3 calls, backend-0 twice, one refused", s, err)
	}
	for body, want := range map[string]string{`{"n":0}`: "made no calls", `{`: "decode spread"} {
		if _, err := DecodeSpread([]byte(body)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("DecodeSpread(%q) error = %v, want one saying %q", body, err, want)
		}
	}
}
