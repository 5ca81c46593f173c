package serve_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/podpaths/podpaths/platform/config"
	"github.com/podpaths/podpaths/platform/identity"
	"github.com/podpaths/podpaths/platform/progtest"
	"github.com/podpaths/podpaths/platform/serve"
)

// TestService runs a service the way the three services' run functions do:
// its identity comes from the downward API, the app answers, and the admin
// server reports the checks and serves the service's metrics.
func TestService(t *testing.T) {
	t.Parallel()
	cfg := config.Common{AppAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", ShutdownTimeout: time.Second,
		Env: identity.Env{PodName: "backend-0", NodeName: "node-a"}}
	var self string
	run := func(ctx context.Context, _ []string, stdout io.Writer) error {
		svc := serve.NewService("backend", "v1", cfg, stdout)
		self = svc.Self.Pod + "@" + svc.Self.Node
		app := serve.NewRouter(svc.Logger, svc.Metrics)
		app.Get("/whoami", serve.Whoami(svc.Self))
		broken := serve.Check{Name: "sidecar", Check: func(context.Context) error { return errors.New("gone") }}
		return svc.Serve(ctx, app, broken)
	}
	p := progtest.Start(t, run, nil, "app", "admin")
	if self != "backend-0@node-a" {
		t.Errorf("service identity = %s, want backend-0@node-a from the downward API", self)
	}
	if code := progtest.GetJSON(t, "http://"+p.Addrs["app"]+"/whoami", nil); code != http.StatusOK {
		t.Errorf("GET app /whoami = %d, want 200", code)
	}
	var readiness struct {
		Failed map[string]string `json:"failed"`
	}
	if code := progtest.GetJSON(t, "http://"+p.Addrs["admin"]+"/readyz", &readiness); code != http.StatusServiceUnavailable || readiness.Failed["sidecar"] == "" {
		t.Errorf("GET admin /readyz = %d %v, want 503 naming the failing check", code, readiness.Failed)
	}
	code, _, body := progtest.Get(t, "http://"+p.Addrs["admin"]+"/metrics")
	if code != http.StatusOK || !strings.Contains(string(body), `podpaths_build_info{service="backend",version="v1"} 1`) ||
		!strings.Contains(string(body), `route="/whoami"`) {
		t.Errorf("GET admin /metrics = %d, want the build info and the app's route metrics:\n%.500s", code, body)
	}
	p.Stop()
	if err := p.Wait(); err != nil {
		t.Errorf("Serve after cancel = %v, want nil", err)
	}
}
