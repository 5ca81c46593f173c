package serve_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/podpaths/podpaths/platform/serve"
)

func TestAdminHandlerProbes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path       string
		ready      bool
		wantStatus int
		wantBody   string // the "status" field
	}{
		{path: "/healthz", ready: false, wantStatus: http.StatusOK, wantBody: "ok"},
		{path: "/healthz", ready: true, wantStatus: http.StatusOK, wantBody: "ok"},
		{path: "/readyz", ready: false, wantStatus: http.StatusServiceUnavailable, wantBody: "not ready"},
		{path: "/readyz", ready: true, wantStatus: http.StatusOK, wantBody: "ready"},
	}
	for _, tt := range tests {
		name := tt.path + " ready=" + map[bool]string{true: "true", false: "false"}[tt.ready]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var ready atomic.Bool
			ready.Store(tt.ready)
			h := serve.AdminHandler(serve.NewRegistry("backend", "v1"), &ready)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, tt.path, nil))
			var body struct{ Status string }
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("GET %s body %q is not JSON: %v", tt.path, rec.Body, err)
			}
			if rec.Code != tt.wantStatus || body.Status != tt.wantBody {
				t.Errorf("GET %s with ready=%v = %d %q, want %d %q", tt.path, tt.ready, rec.Code, body.Status, tt.wantStatus, tt.wantBody)
			}
		})
	}
}

// TestAdminHandlerReadinessFollowsFlag checks that the handler reads the flag
// on every request rather than once when it is built.
func TestAdminHandlerReadinessFollowsFlag(t *testing.T) {
	t.Parallel()
	var ready atomic.Bool
	h := serve.AdminHandler(serve.NewRegistry("backend", "v1"), &ready)
	for i, want := range []int{503, 200, 503} {
		ready.Store(want == 200)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/readyz", nil))
		if rec.Code != want {
			t.Errorf("step %d: GET /readyz with ready=%v = %d, want %d", i, ready.Load(), rec.Code, want)
		}
	}
}

func TestAdminHandlerMetrics(t *testing.T) {
	t.Parallel()
	reg := serve.NewRegistry("backend", "0.1.0+gabc")
	var ready atomic.Bool
	rec := httptest.NewRecorder()
	serve.AdminHandler(reg, &ready).ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics = %d, want 200", rec.Code)
	}
	body := rec.Body.String()
	for _, want := range []string{
		`podpaths_build_info{service="backend",version="0.1.0+gabc"} 1`,
		"go_goroutines ",
		"go_memstats_alloc_bytes ",
		"process_cpu_seconds_total ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("GET /metrics body has no %q", want)
		}
	}

	want := `
# HELP podpaths_build_info Always 1; labels say which service and version is running.
# TYPE podpaths_build_info gauge
podpaths_build_info{service="backend",version="0.1.0+gabc"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "podpaths_build_info"); err != nil {
		t.Errorf("podpaths_build_info: %v", err)
	}
}

// TestNewRegistryIsFresh checks that two registries share no state, so that
// parallel tests and two servers in one process cannot collide.
func TestNewRegistryIsFresh(t *testing.T) {
	t.Parallel()
	a, b := serve.NewRegistry("a", "1"), serve.NewRegistry("b", "2")
	serve.NewHTTPMetrics(a)
	serve.NewHTTPMetrics(b) // would panic on a shared registry: duplicate registration
	if got := testutil.CollectAndCount(b, "podpaths_build_info"); got != 1 {
		t.Errorf("registry b has %d podpaths_build_info series, want 1 (its own)", got)
	}
}

func TestAdminHandlerReadinessWaitsForChecks(t *testing.T) {
	t.Parallel()
	var ready atomic.Bool
	ready.Store(true)
	var sidecarUp atomic.Bool
	h := serve.AdminHandler(serve.NewRegistry("backend", "v1"), &ready, serve.Check{
		Name: "sidecar",
		Check: func(context.Context) error {
			if !sidecarUp.Load() {
				return errors.New("connection refused")
			}
			return nil
		},
	})
	probe := func() (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/readyz", nil))
		return rec.Code, rec.Body.String()
	}
	if code, body := probe(); code != http.StatusServiceUnavailable || !strings.Contains(body, `"sidecar":"connection refused"`) {
		t.Errorf("sidecar down: /readyz = %d %s, want 503 naming the sidecar", code, body)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/healthz", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("sidecar down: /healthz = %d, want 200: liveness must not depend on peers", rec.Code)
	}
	sidecarUp.Store(true)
	if code, body := probe(); code != http.StatusOK {
		t.Errorf("sidecar up: /readyz = %d %s, want 200", code, body)
	}
}
