package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/podpaths/podpaths/platform/progtest"
	"github.com/podpaths/podpaths/platform/report"
	"github.com/podpaths/podpaths/platform/serve"
)

// run is the service as main runs it, for tests to start with an
// environment of their own.
var run = serve.Program(service, version, loadConfig, start)

func TestSidecarAnswersOnLoopbackOnly(t *testing.T) {
	t.Parallel()
	if cfg, err := loadConfig(nil); err != nil || cfg.AppAddr != "127.0.0.1:9000" {
		t.Fatalf("default app address = %q (%v), want 127.0.0.1:9000: a sidecar must not listen on the pod IP", cfg.AppAddr, err)
	}
	p := progtest.Start(t, run, []string{
		"PODPATHS_APP_ADDR=127.0.0.1:0", "PODPATHS_ADMIN_ADDR=127.0.0.1:0", "PODPATHS_DRAIN_DELAY=0s",
		"PODPATHS_POD_NAME=backend-1", "PODPATHS_POD_IP=10.244.1.9",
	}, "app", "admin")
	if host, _, _ := net.SplitHostPort(p.Addrs["app"]); !net.ParseIP(host).IsLoopback() {
		t.Errorf("app listens on %s, want a loopback address", p.Addrs["app"])
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+p.Addrs["app"]+"/whoami", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close() //nolint:errcheck
	var who report.Whoami
	if err := json.NewDecoder(resp.Body).Decode(&who); err != nil {
		t.Fatal(err)
	}
	if who.Service != "sidecar" || who.Pod != "backend-1" || who.PodIP != "10.244.1.9" || who.ClientIP != "127.0.0.1" {
		t.Errorf("GET /whoami = %+v, want sidecar in pod backend-1 (10.244.1.9) seeing client 127.0.0.1", who)
	}
}

func TestSidecarRejectsBadConfig(t *testing.T) {
	t.Parallel()
	err := run(context.Background(), []string{"PODPATHS_SHUTDOWN_TIMEOUT=0s"}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "PODPATHS_SHUTDOWN_TIMEOUT") {
		t.Errorf("run with PODPATHS_SHUTDOWN_TIMEOUT=0s = %v, want an error naming it", err)
	}
}
