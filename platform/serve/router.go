package serve

import (
	"context"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// NewRouter returns a chi router with the middleware every app server uses:
// JSON request logging with a request ID, metrics, and panic recovery.
//
// The request ID and the status recorder are the lab's own, not chi's
// middleware package: that package imports net/http/pprof, whose init
// registers the profiler on http.DefaultServeMux and links it into every
// binary (about 0.6 MB each).
func NewRouter(logger *slog.Logger, metrics *HTTPMetrics) chi.Router {
	r := chi.NewRouter()
	// The recoverer is innermost, so a panic still gets its log line and
	// its 500 in the metrics.
	r.Use(observe(logger, metrics, newRequestIDs()), recoverer(logger))
	r.NotFound(func(w http.ResponseWriter, _ *http.Request) {
		Error(w, http.StatusNotFound, "not found")
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Allow", strings.Join(allowed(r, req.URL.Path), ", "))
		Error(w, http.StatusMethodNotAllowed, "method not allowed")
	})
	return r
}

// allowed lists the methods that path has routes for, for the Allow header
// a 405 must carry.
func allowed(r chi.Router, path string) []string {
	var methods []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if r.Match(chi.NewRouteContext(), m, path) {
			methods = append(methods, m)
		}
	}
	return methods
}

// runChecks runs every check and returns the errors of those that failed.
func runChecks(ctx context.Context, checks []Check) map[string]string {
	failed := make(map[string]string)
	for _, c := range checks {
		cctx, cancel := context.WithTimeout(ctx, checkTimeout)
		if err := c.Check(cctx); err != nil {
			failed[c.Name] = err.Error()
		}
		cancel()
	}
	return failed
}

// observe writes one JSON log line per request and records its metrics. One
// middleware wraps the response writer once and reads the clock twice for
// both: this runs on every request. The route is read after the handler ran,
// because only then is chi's pattern complete.
func observe(logger *slog.Logger, metrics *HTTPMetrics, ids *requestIDs) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			id := ids.forRequest(r)
			ww := &statusWriter{ResponseWriter: w}
			next.ServeHTTP(ww, r)
			took, route, code := time.Since(start), RoutePattern(r), ww.status()
			metrics.record(route, r.Method, code, took)
			logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
				slog.String("method", r.Method),
				slog.String("route", route),
				slog.String("path", r.URL.Path),
				slog.Int("status", code),
				slog.Duration("duration", took),
				slog.String("remote", r.RemoteAddr),
				slog.String("request_id", id),
			)
		})
	}
}

// recoverer turns a panic into a 500 with a JSON body and logs it once.
func recoverer(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if v := recover(); v != nil {
					if v == http.ErrAbortHandler {
						panic(v)
					}
					logger.Error("panic", "value", v, "path", r.URL.Path, "stack", string(debug.Stack()))
					Error(w, http.StatusInternalServerError, "internal error")
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// Check is a dependency readiness waits for.
type Check struct {
	Name string
	// Check returns nil when the dependency is usable.
	Check func(ctx context.Context) error
}

// checkTimeout bounds each readiness check, well inside a probe's timeout.
const checkTimeout = 500 * time.Millisecond

// AdminHandler serves /healthz, /readyz and /metrics. Liveness only says the
// process answers, so a broken dependency never gets the pod restarted.
// Readiness also says it is not draining and every check passes, so that
// Kubernetes takes the pod out of its Services when it cannot do its work.
func AdminHandler(reg *prometheus.Registry, ready *atomic.Bool, checks ...Check) http.Handler {
	r := chi.NewRouter()
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		JSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	r.Get("/readyz", func(w http.ResponseWriter, req *http.Request) {
		if !ready.Load() {
			JSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready"})
			return
		}
		if failed := runChecks(req.Context(), checks); len(failed) > 0 {
			JSON(w, http.StatusServiceUnavailable, map[string]any{"status": "not ready", "failed": failed})
			return
		}
		JSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	r.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	return r
}
