package serve_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/podpaths/podpaths/platform/serve"
)

// TestLimiter fills every slot with requests that block, then checks that
// one more is turned away at once with 429 and a JSON error, and that a
// slot, once free, serves again.
func TestLimiter(t *testing.T) {
	t.Parallel()
	const n = 3
	lim := serve.NewLimiter(n)
	entered, release := make(chan struct{}), make(chan struct{})
	slow := lim.Limit(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		entered <- struct{}{}
		<-release
	}), serve.Busy(lim))
	fast := lim.Limit(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}), serve.Busy(lim))

	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			slow.ServeHTTP(httptest.NewRecorder(), httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/api/paths", nil))
		})
		<-entered
	}
	rec := httptest.NewRecorder()
	fast.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/api/spread", nil))
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "1" ||
		rec.Header().Get("Content-Type") != "application/json" || !strings.Contains(rec.Body.String(), `"error":"busy: 3 reports`) {
		t.Errorf("with all %d slots taken: %d %v %s, want 429, Retry-After 1 and a JSON error", n, rec.Code, rec.Header(), rec.Body)
	}
	close(release)
	wg.Wait()
	rec = httptest.NewRecorder()
	fast.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/api/spread", nil))
	if rec.Code != http.StatusNoContent {
		t.Errorf("after the slots were freed: %d, want the handler's 204", rec.Code)
	}
}
