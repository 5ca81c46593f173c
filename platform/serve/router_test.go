package serve_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/podpaths/podpaths/platform/serve"
)

// testRouter is a router with every middleware and a few routes, its metrics
// registry and the buffer its logger writes to. Requests go through
// ServeHTTP on the test goroutine, so the buffer needs no lock.
type testRouter struct {
	router http.Handler
	reg    *prometheus.Registry
	logs   *bytes.Buffer
}

func newTestRouter(t *testing.T) testRouter {
	t.Helper()
	logs := new(bytes.Buffer)
	logger := serve.NewLogger(logs, slog.LevelInfo, "test")
	reg := prometheus.NewRegistry()
	r := serve.NewRouter(logger, serve.NewHTTPMetrics(reg))
	r.Get("/items/{id}", func(w http.ResponseWriter, r *http.Request) {
		serve.JSON(w, http.StatusOK, map[string]string{"id": chi.URLParam(r, "id")})
	})
	r.Get("/panic", func(http.ResponseWriter, *http.Request) { panic("boom") })
	r.Get("/abort", func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) })
	return testRouter{router: r, reg: reg, logs: logs}
}

func (tr testRouter) do(t *testing.T, method, target string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	tr.router.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), method, target, nil))
	return rec
}

// logLines decodes every JSON line in buf.
func logLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for l := range strings.Lines(buf.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", l, err)
		}
		lines = append(lines, m)
	}
	return lines
}

func TestRouterJSONErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		method, target string
		wantStatus     int
		wantBody       serve.ErrorBody
	}{
		{method: http.MethodGet, target: "/nope", wantStatus: http.StatusNotFound, wantBody: serve.ErrorBody{Error: "not found"}},
		{method: http.MethodPost, target: "/items/1", wantStatus: http.StatusMethodNotAllowed, wantBody: serve.ErrorBody{Error: "method not allowed"}},
		{method: http.MethodGet, target: "/panic", wantStatus: http.StatusInternalServerError, wantBody: serve.ErrorBody{Error: "internal error"}},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			t.Parallel()
			rec := newTestRouter(t).do(t, tt.method, tt.target)
			if rec.Code != tt.wantStatus {
				t.Errorf("%s %s: status = %d, want %d", tt.method, tt.target, rec.Code, tt.wantStatus)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("%s %s: Content-Type = %q, want application/json", tt.method, tt.target, ct)
			}
			var got serve.ErrorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || got != tt.wantBody {
				t.Errorf("%s %s: body = %q (err %v), want %+v", tt.method, tt.target, rec.Body, err, tt.wantBody)
			}
		})
	}
}

func TestRouterPanicIsLoggedOnce(t *testing.T) {
	t.Parallel()
	tr := newTestRouter(t)
	rec := tr.do(t, http.MethodGet, "/panic")
	if strings.Contains(rec.Body.String(), "boom") {
		t.Errorf("GET /panic body = %q, want the panic value kept out of the response", rec.Body)
	}
	var panics []map[string]any
	for _, l := range logLines(t, tr.logs) {
		if l["msg"] == "panic" {
			panics = append(panics, l)
		}
	}
	if len(panics) != 1 {
		t.Fatalf("GET /panic logged %d panic lines, want 1; log:\n%s", len(panics), tr.logs)
	}
	if p := panics[0]; p["value"] != "boom" || p["path"] != "/panic" || p["level"] != "ERROR" {
		t.Errorf("panic log = %v, want level ERROR, value boom, path /panic", p)
	}
}

// TestRouterAbortHandlerPanics checks that http.ErrAbortHandler is passed on:
// net/http uses it to abort a response silently, and turning it into a 500
// would defeat that.
func TestRouterAbortHandlerPanics(t *testing.T) {
	t.Parallel()
	tr := newTestRouter(t)
	got := func() (v any) {
		defer func() { v = recover() }()
		tr.do(t, http.MethodGet, "/abort")
		return nil
	}()
	if got != http.ErrAbortHandler {
		t.Errorf("GET /abort panicked with %v, want http.ErrAbortHandler", got)
	}
	if strings.Contains(tr.logs.String(), `"msg":"panic"`) {
		t.Errorf("GET /abort logged a panic, want none; log:\n%s", tr.logs)
	}
}

func TestRouterMetricsUseRoutePattern(t *testing.T) {
	t.Parallel()
	tr := newTestRouter(t)
	for _, req := range []struct{ method, target string }{
		{http.MethodGet, "/items/1"},
		{http.MethodGet, "/items/2"},
		{http.MethodGet, "/items/3?x=y"},
		{http.MethodGet, "/nope"},
		{http.MethodGet, "/also/nope"},
		{http.MethodPost, "/items/1"},
	} {
		tr.do(t, req.method, req.target)
	}
	want := `
# HELP http_requests_total HTTP requests by route pattern, method and status code.
# TYPE http_requests_total counter
http_requests_total{code="200",method="GET",route="/items/{id}"} 3
http_requests_total{code="404",method="GET",route="unmatched"} 2
http_requests_total{code="405",method="POST",route="unmatched"} 1
`
	if err := testutil.GatherAndCompare(tr.reg, strings.NewReader(want), "http_requests_total"); err != nil {
		t.Errorf("http_requests_total after 6 requests: %v", err)
	}
	// One histogram per (route, method): no raw URL ever becomes a label.
	if got := testutil.CollectAndCount(tr.reg, "http_request_duration_seconds"); got != 3 {
		t.Errorf("http_request_duration_seconds series = %d, want 3 ({id} GET, unmatched GET, unmatched POST)", got)
	}
}

func TestRouterRequestLog(t *testing.T) {
	t.Parallel()
	tests := []struct {
		method, target string
		wantRoute      string
		wantStatus     float64
	}{
		{method: http.MethodGet, target: "/items/7", wantRoute: "/items/{id}", wantStatus: 200},
		{method: http.MethodGet, target: "/nope", wantRoute: "unmatched", wantStatus: 404},
		{method: http.MethodPost, target: "/items/7", wantRoute: "unmatched", wantStatus: 405},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			t.Parallel()
			tr := newTestRouter(t)
			req := httptest.NewRequestWithContext(t.Context(), tt.method, tt.target, nil)
			req.Header.Set("X-Request-Id", "req-42")
			tr.router.ServeHTTP(httptest.NewRecorder(), req)
			lines := logLines(t, tr.logs)
			if len(lines) != 1 {
				t.Fatalf("%s %s logged %d lines, want 1; log:\n%s", tt.method, tt.target, len(lines), tr.logs)
			}
			l := lines[0]
			want := map[string]any{
				"msg": "request", "level": "INFO", "service": "test", "method": tt.method,
				"route": tt.wantRoute, "path": strings.Split(tt.target, "?")[0], "status": tt.wantStatus,
				"request_id": "req-42",
			}
			for k, v := range want {
				if l[k] != v {
					t.Errorf("%s %s: log %s = %v, want %v; line: %v", tt.method, tt.target, k, l[k], v, l)
				}
			}
			for _, k := range []string{"time", "duration", "remote"} {
				if _, ok := l[k]; !ok {
					t.Errorf("%s %s: log line has no %q: %v", tt.method, tt.target, k, l)
				}
			}
		})
	}
}

func TestRoutePatternWithoutChi(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/items/1", nil)
	if got := serve.RoutePattern(r); got != "unmatched" {
		t.Errorf("RoutePattern(request never routed by chi) = %q, want unmatched", got)
	}
}

func TestNewLoggerLevel(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := serve.NewLogger(&buf, slog.LevelWarn, "backend")
	logger.Info("hidden")
	logger.Warn("shown", "k", "v")
	lines := logLines(t, &buf)
	if len(lines) != 1 {
		t.Fatalf("NewLogger(level warn) wrote %d lines for one info and one warn, want 1; log:\n%s", len(lines), &buf)
	}
	if l := lines[0]; l["msg"] != "shown" || l["service"] != "backend" || l["k"] != "v" {
		t.Errorf("log line = %v, want msg shown, service backend, k v", l)
	}
}

func TestJSONHelpers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		write      func(http.ResponseWriter)
		wantStatus int
		wantBody   string
	}{
		{name: "JSON", write: func(w http.ResponseWriter) { serve.JSON(w, http.StatusCreated, map[string]int{"n": 1}) },
			wantStatus: http.StatusCreated, wantBody: `{"n":1}` + "\n"},
		{name: "Error", write: func(w http.ResponseWriter) { serve.Error(w, http.StatusBadGateway, "peer failed") },
			wantStatus: http.StatusBadGateway, wantBody: `{"error":"peer failed"}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			tt.write(rec)
			if rec.Code != tt.wantStatus || rec.Body.String() != tt.wantBody {
				t.Errorf("%s: got %d %q, want %d %q", tt.name, rec.Code, rec.Body, tt.wantStatus, tt.wantBody)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("%s: Content-Type = %q, want application/json", tt.name, ct)
			}
		})
	}
}
