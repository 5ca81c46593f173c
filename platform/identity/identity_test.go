package identity

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/podpaths/podpaths/platform/report"
)

func TestNewFallsBackToHostname(t *testing.T) {
	t.Parallel()
	id := New("backend", "v1", Env{}, time.Unix(0, 0))
	if id.Pod == "" || id.Pod != id.Hostname {
		t.Errorf("New with no POD_NAME: pod = %q, hostname = %q, want pod == hostname", id.Pod, id.Hostname)
	}
	id = New("backend", "v1", Env{PodName: "backend-1", NodeName: "n1"}, time.Unix(0, 0))
	if id.Pod != "backend-1" || id.Node != "n1" {
		t.Errorf("New with downward API: got pod %q node %q, want backend-1 n1", id.Pod, id.Node)
	}
}

func TestForRequest(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequestWithContext(t.Context(), "GET", "/whoami", nil)
	r.RemoteAddr = "10.244.1.7:51234"
	r.Header.Set("X-Real-IP", "172.18.0.1")
	r.Header.Set("X-Forwarded-Proto", "http")
	w := ForRequest(report.Identity{Service: "backend"}, r)
	if w.ClientIP != "10.244.1.7" {
		t.Errorf("client_ip = %q, want 10.244.1.7", w.ClientIP)
	}
	if got := w.Forwarded["x-real-ip"]; got != "172.18.0.1" {
		t.Errorf("forwarded x-real-ip = %q, want 172.18.0.1", got)
	}
	if _, ok := w.Forwarded["x-forwarded-for"]; ok {
		t.Errorf("forwarded has x-forwarded-for, but the request had none: %v", w.Forwarded)
	}
}
