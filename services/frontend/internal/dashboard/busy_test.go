package dashboard

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestBusy(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	Busy(8).ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/", nil))
	doc := parse(t, rec.Body.String())
	refresh := first(t, doc, withAttr("http-equiv", "refresh"))
	if rec.Code != http.StatusTooManyRequests || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") ||
		attr(refresh, "content") != "2" || !strings.Contains(text(doc), "making 8 path reports at once") {
		t.Errorf("Busy(8) = %d %q %s, want 429 and an HTML page that reloads itself in 2 s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
}
