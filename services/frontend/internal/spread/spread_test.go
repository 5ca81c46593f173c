package spread

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/podpaths/podpaths/platform/discovery"
	"github.com/podpaths/podpaths/platform/identity"
	"github.com/podpaths/podpaths/platform/probe"
	"github.com/podpaths/podpaths/platform/report"
	"github.com/podpaths/podpaths/platform/serve"
)

func TestRunCountsAnsweringPods(t *testing.T) {
	t.Parallel()
	pod := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serve.JSON(w, http.StatusOK, identity.ForRequest(report.Identity{Pod: "backend-1", Node: "n1"}, r))
	}))
	t.Cleanup(pod.Close)
	prober := &probe.Prober{Client: probe.NewClient(probe.ClientOptions{Timeout: time.Second, KeepAlive: true}), Timeout: time.Second}
	pods, errs := Run(t.Context(), prober, discovery.Target{Addr: strings.TrimPrefix(pod.URL, "http://")}, 7)
	if len(pods) != 1 || pods[0].Pod != "backend-1" || pods[0].Node != "n1" || pods[0].Count != 7 || len(errs) != 0 {
		t.Errorf("7 calls to one pod = %+v, errors %v, want backend-1 on n1 counted 7 times", pods, errs)
	}
}

func TestRunCountsFailuresByKind(t *testing.T) {
	t.Parallel()
	var lc net.ListenConfig
	ln, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() //nolint:errcheck // only its free port is wanted
	prober := &probe.Prober{Client: probe.NewClient(probe.ClientOptions{Timeout: time.Second}), Timeout: time.Second}
	pods, errs := Run(t.Context(), prober, discovery.Target{Addr: addr}, 3)
	if len(pods) != 0 || errs["refused"] != 3 {
		t.Errorf("3 calls to a closed port = pods %+v, errors %v, want no pods and 3 refused", pods, errs)
	}
}
