package serve_test

import (
	"net/http/httptest"
	"testing"

	"github.com/podpaths/podpaths/platform/report"
	"github.com/podpaths/podpaths/platform/serve"
)

func TestWhoami(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequestWithContext(t.Context(), "GET", "/whoami", nil)
	r.RemoteAddr = "10.244.1.7:51234"
	rec := httptest.NewRecorder()
	serve.Whoami(report.Identity{Service: "sidecar", Pod: "backend-0"})(rec, r)
	w, err := report.DecodeWhoami(rec.Body.Bytes())
	if rec.Code != 200 || err != nil || w.Service != "sidecar" || w.Pod != "backend-0" || w.ClientIP != "10.244.1.7" {
		t.Errorf("GET /whoami = %d %s (%v), want 200 with sidecar backend-0 and client 10.244.1.7", rec.Code, rec.Body, err)
	}
}
