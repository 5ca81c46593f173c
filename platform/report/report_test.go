package report

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"
)

func TestPathOutcome(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		path Path
		want Outcome
	}{
		{name: "ok, expected ok", path: Path{OK: true, Expected: ExpectOK}, want: OutcomePass},
		{name: "ok, no expectation means ok", path: Path{OK: true}, want: OutcomePass},
		{name: "failed, expected ok", path: Path{ErrorKind: ErrorRefused, Expected: ExpectOK}, want: OutcomeFail},
		{name: "failed, no expectation means ok", path: Path{ErrorKind: ErrorTimeout}, want: OutcomeFail},
		{name: "failed, expected fail", path: Path{ErrorKind: ErrorTimeout, Expected: ExpectFail}, want: OutcomePass},
		{name: "ok, expected fail", path: Path{OK: true, Expected: ExpectFail}, want: OutcomeFail},
		{name: "http error, expected ok", path: Path{Status: 503, ErrorKind: ErrorHTTP, Expected: ExpectOK}, want: OutcomeFail},
		{name: "unconfigured is skipped", path: Path{ErrorKind: ErrorUnconfigured, Expected: ExpectOK}, want: OutcomeSkip},
		{name: "unconfigured expected fail is skipped", path: Path{ErrorKind: ErrorUnconfigured, Expected: ExpectFail}, want: OutcomeSkip},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.path.Outcome(); got != tt.want {
				t.Errorf("Path{OK: %v, ErrorKind: %q, Expected: %q}.Outcome() = %q, want %q",
					tt.path.OK, tt.path.ErrorKind, tt.path.Expected, got, tt.want)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	t.Parallel()
	pass := Path{OK: true, Expected: ExpectOK}
	fail := Path{ErrorKind: ErrorRefused, Expected: ExpectOK}
	mustFail := Path{ErrorKind: ErrorTimeout, Expected: ExpectFail}
	skip := Path{ErrorKind: ErrorUnconfigured}
	tests := []struct {
		name  string
		paths []Path
		want  Summary
	}{
		{name: "nil", paths: nil, want: Summary{}},
		{name: "empty", paths: []Path{}, want: Summary{}},
		{name: "all pass", paths: []Path{pass, mustFail}, want: Summary{Total: 2, OK: 2}},
		{name: "mixed", paths: []Path{pass, fail, skip, mustFail, fail, skip},
			want: Summary{Total: 6, OK: 2, Failed: 2, Skipped: 2}},
		{name: "only skipped", paths: []Path{skip}, want: Summary{Total: 1, Skipped: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Summarize(tt.paths)
			if got != tt.want {
				t.Errorf("Summarize(%d paths) = %+v, want %+v", len(tt.paths), got, tt.want)
			}
			if got.OK+got.Failed+got.Skipped != got.Total {
				t.Errorf("Summarize(%d paths) = %+v: ok+failed+skipped != total", len(tt.paths), got)
			}
		})
	}
}

func TestNewUsesUTC(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 6, 1, 14, 30, 0, 0, time.FixedZone("CEST", 2*60*60))
	paths := []Path{{ID: "a", OK: true}, {ID: "b", ErrorKind: ErrorUnconfigured}}
	r := New("frontend", now, paths)
	if r.GeneratedAt.Location() != time.UTC {
		t.Errorf("New(now in %v).GeneratedAt location = %v, want UTC", now.Location(), r.GeneratedAt.Location())
	}
	if !r.GeneratedAt.Equal(now) {
		t.Errorf("New(now = %v).GeneratedAt = %v, want the same instant", now, r.GeneratedAt)
	}
	if r.Reporter != "frontend" || !reflect.DeepEqual(r.Paths, paths) {
		t.Errorf("New(frontend, paths) = reporter %q paths %+v, want frontend and the given paths", r.Reporter, r.Paths)
	}
	if want := (Summary{Total: 2, OK: 1, Skipped: 1}); r.Summary != want {
		t.Errorf("New(...).Summary = %+v, want %+v", r.Summary, want)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatalf("json.Marshal(report) error = %v", err)
	}
	var raw struct {
		GeneratedAt string `json:"generated_at"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatalf("json.Unmarshal(%s) error = %v", b, err)
	}
	if want := "2025-06-01T12:30:00Z"; raw.GeneratedAt != want {
		t.Errorf("generated_at = %q, want %q", raw.GeneratedAt, want)
	}
}

// keysOf decodes a JSON object and returns its keys, sorted.
func keysOf(t *testing.T, b []byte) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("json.Unmarshal(%s) error = %v", b, err)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// TestPathJSON pins the field names of docs/design.md: the dashboard,
// `make check` and the e2e tests read them.
func TestPathJSON(t *testing.T) {
	t.Parallel()
	p := Path{
		ID: "frontend-backend-env", From: "frontend", To: "backend", Method: MethodEnv,
		Query: "BACKEND_SERVICE_HOST, BACKEND_SERVICE_PORT", Addresses: []string{"10.96.4.20:8080"},
		OK: true, Status: 200, LatencyMS: 1.7,
		AnsweredBy:   &Pod{Pod: "backend-1", PodIP: "10.244.2.5", Node: "podpaths-worker2"},
		ClientIPSeen: "10.244.1.7",
		Hops:         []Path{{ID: "backend-sidecar-localhost", Method: MethodLocalhost, ErrorKind: ErrorRefused, Error: "refused"}},
		Expected:     ExpectOK,
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatalf("json.Marshal(path) error = %v", err)
	}
	want := []string{"addresses", "answered_by", "client_ip_seen", "error", "error_kind", "expected", "from", "hops",
		"id", "latency_ms", "method", "ok", "query", "status", "to"}
	if got := keysOf(t, b); !slices.Equal(got, want) {
		t.Errorf("json.Marshal(path) keys = %v, want %v\njson: %s", got, want, b)
	}

	var raw struct {
		AnsweredBy json.RawMessage   `json:"answered_by"`
		Hops       []json.RawMessage `json:"hops"`
		Method     string            `json:"method"`
		ErrorKind  string            `json:"error_kind"`
		Expected   string            `json:"expected"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatalf("json.Unmarshal(%s) error = %v", b, err)
	}
	if got, want := keysOf(t, raw.AnsweredBy), []string{"node", "pod", "pod_ip"}; !slices.Equal(got, want) {
		t.Errorf("answered_by keys = %v, want %v", got, want)
	}
	if raw.Method != "env" || raw.ErrorKind != "" || raw.Expected != "ok" {
		t.Errorf("method, error_kind, expected = %q, %q, %q, want env, \"\", ok", raw.Method, raw.ErrorKind, raw.Expected)
	}
	if len(raw.Hops) != 1 {
		t.Fatalf("hops = %d entries, want 1", len(raw.Hops))
	}
	if got := keysOf(t, raw.Hops[0]); !slices.Contains(got, "error_kind") || slices.Contains(got, "answered_by") {
		t.Errorf("hop keys = %v, want error_kind and no answered_by (nobody answered)", got)
	}

	var back Path
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("json.Unmarshal(%s) into Path error = %v", b, err)
	}
	if !reflect.DeepEqual(back, p) {
		t.Errorf("round trip = %+v, want %+v", back, p)
	}
}

func TestPathJSONOptionalFields(t *testing.T) {
	t.Parallel()
	p := Path{ID: "x", ErrorKind: ErrorUnconfigured, FromNode: "n1", ToNode: "n2"}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatalf("json.Marshal(path) error = %v", err)
	}
	keys := keysOf(t, b)
	for _, k := range []string{"from_node", "to_node"} {
		if !slices.Contains(keys, k) {
			t.Errorf("json.Marshal(%+v) keys = %v, want %q", p, keys, k)
		}
	}
	if slices.Contains(keys, "answered_by") {
		t.Errorf("json.Marshal(path without AnsweredBy) keys = %v, want no answered_by", keys)
	}
}

func TestReportJSON(t *testing.T) {
	t.Parallel()
	r := New("frontend", time.Unix(0, 0), []Path{{ID: "a", OK: true}})
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatalf("json.Marshal(report) error = %v", err)
	}
	if got, want := keysOf(t, b), []string{"generated_at", "paths", "reporter", "summary"}; !slices.Equal(got, want) {
		t.Errorf("report keys = %v, want %v", got, want)
	}
	var raw struct {
		Summary json.RawMessage `json:"summary"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatalf("json.Unmarshal(%s) error = %v", b, err)
	}
	if got, want := keysOf(t, raw.Summary), []string{"failed", "ok", "skipped", "total"}; !slices.Equal(got, want) {
		t.Errorf("summary keys = %v, want %v", got, want)
	}
}
