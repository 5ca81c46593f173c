package serve_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/podpaths/podpaths/platform/serve"
)

// BenchmarkRouterWhoami measures what the middleware (request ID, recoverer,
// request log, metrics) costs per request, against the same handler bare.
func BenchmarkRouterWhoami(b *testing.B) {
	whoami := func(w http.ResponseWriter, _ *http.Request) {
		serve.JSON(w, http.StatusOK, map[string]string{"pod": "backend-0", "node": "podpaths-worker"})
	}
	router := serve.NewRouter(slog.New(slog.NewJSONHandler(io.Discard, nil)), serve.NewHTTPMetrics(prometheus.NewRegistry()))
	router.Get("/whoami", whoami)

	for _, bb := range []struct {
		name string
		h    http.Handler
	}{
		{name: "bare", h: http.HandlerFunc(whoami)},
		{name: "router", h: router},
	} {
		b.Run(bb.name, func(b *testing.B) {
			req := httptest.NewRequestWithContext(b.Context(), http.MethodGet, "/whoami", nil)
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				bb.h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("GET /whoami = %d, want 200", rec.Code)
				}
			}
		})
	}
}
