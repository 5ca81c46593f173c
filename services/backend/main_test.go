package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/podpaths/podpaths/platform/progtest"
	"github.com/podpaths/podpaths/platform/report"
	"github.com/podpaths/podpaths/platform/serve"
)

// run is the service as main runs it, for tests to start with an
// environment of their own.
var run = serve.Program(service, version, loadConfig, start)

func TestRunServesAndCallsSidecar(t *testing.T) {
	t.Parallel()
	sidecar := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, `{"service":"sidecar","pod":"backend-0","pod_ip":"10.244.1.5","client_ip":"127.0.0.1"}`) //nolint:errcheck
	}))
	t.Cleanup(sidecar.Close)
	p := progtest.Start(t, run, []string{
		"PODPATHS_APP_ADDR=127.0.0.1:0", "PODPATHS_ADMIN_ADDR=127.0.0.1:0", "PODPATHS_DRAIN_DELAY=0s",
		"PODPATHS_POD_NAME=backend-0", "PODPATHS_SIDECAR_ADDR=" + strings.TrimPrefix(sidecar.URL, "http://"),
	}, "app", "admin")

	if code := progtest.GetJSON(t, "http://"+p.Addrs["admin"]+"/readyz", nil); code != http.StatusOK {
		t.Errorf("GET /readyz = %d, want 200", code)
	}
	var answer report.BackendWhoami
	if code := progtest.GetJSON(t, "http://"+p.Addrs["app"]+"/api/whoami", &answer); code != http.StatusOK {
		t.Fatalf("GET /api/whoami = %d, want 200", code)
	}
	if answer.Pod != "backend-0" || !answer.Sidecar.OK || answer.Sidecar.AnsweredBy == nil || answer.Sidecar.AnsweredBy.Pod != "backend-0" {
		t.Errorf("GET /api/whoami = %+v, want pod backend-0 and an ok sidecar path answered by backend-0", answer)
	}

	sidecar.Close()
	var readiness struct {
		Failed map[string]string `json:"failed"`
	}
	if code := progtest.GetJSON(t, "http://"+p.Addrs["admin"]+"/readyz", &readiness); code != http.StatusServiceUnavailable || readiness.Failed["sidecar"] == "" {
		t.Errorf("sidecar gone: GET /readyz = %d %v, want 503 naming the sidecar", code, readiness.Failed)
	}

	p.Stop()
	if err := p.Wait(); err != nil {
		t.Errorf("run after cancel = %v, want nil (clean shutdown)", err)
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	t.Parallel()
	tests := []struct{ env, wantVar string }{
		{"PODPATHS_PEER_TIMEOUT=forever", "PODPATHS_PEER_TIMEOUT"},
		{"PODPATHS_SIDECAR_ADDR=localhost", "PODPATHS_SIDECAR_ADDR"},
		{"PODPATHS_APP_ADDR=8080", "PODPATHS_APP_ADDR"},
		{"PODPATHS_LOG_LEVEL=loud", "PODPATHS_LOG_LEVEL"},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			t.Parallel()
			err := run(context.Background(), []string{tt.env}, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.wantVar) {
				t.Errorf("run with %s = %v, want an error naming %s", tt.env, err, tt.wantVar)
			}
		})
	}
}

func TestRunFailsWhenPortInUse(t *testing.T) {
	t.Parallel()
	busy := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(busy.Close)
	addr := strings.TrimPrefix(busy.URL, "http://")
	err := run(context.Background(), []string{"PODPATHS_APP_ADDR=" + addr, "PODPATHS_ADMIN_ADDR=127.0.0.1:0"}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "listen app") {
		t.Errorf("run with app port %s in use = %v, want a listen app error", addr, err)
	}
}
