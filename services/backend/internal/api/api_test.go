package api

import (
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/podpaths/podpaths/platform/discovery"
	"github.com/podpaths/podpaths/platform/localdns"
	"github.com/podpaths/podpaths/platform/probe"
	"github.com/podpaths/podpaths/platform/report"
	"github.com/podpaths/podpaths/platform/serve"
)

// whoamiServer answers /whoami as a pod named pod would.
func whoamiServer(t *testing.T, pod string) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serve.Whoami(report.Identity{Service: "backend", Pod: pod, Node: "node-a"})(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func hostPort(t *testing.T, url string) (string, uint16) {
	t.Helper()
	_, port, err := net.SplitHostPort(url[len("http://"):])
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return "127.0.0.1", uint16(n)
}

func newTestServer(t *testing.T, deps Deps) http.Handler {
	t.Helper()
	reg := prometheus.NewRegistry()
	if deps.Prober == nil {
		deps.Prober = &probe.Prober{Client: probe.NewClient(probe.ClientOptions{Timeout: time.Second, KeepAlive: true}), Timeout: time.Second}
	}
	deps.Metrics = probe.NewMetrics(reg)
	return NewServer(slog.New(slog.NewJSONHandler(io.Discard, nil)), serve.NewHTTPMetrics(reg), deps)
}

func getJSON(t *testing.T, h http.Handler, path string, v any) int {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, path, nil))
	if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
		t.Fatalf("GET %s: body %q is not JSON: %v", path, rec.Body.String(), err)
	}
	return rec.Code
}

func TestWhoamiAnswerCarriesSidecarCall(t *testing.T) {
	t.Parallel()
	up := whoamiServer(t, "backend-0")
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	tests := []struct {
		name     string
		sidecar  string
		wantOK   bool
		wantKind report.ErrorKind
	}{
		{"sidecar up", up.URL[len("http://"):], true, report.ErrorNone},
		{"sidecar gone", closed.URL[len("http://"):], false, report.ErrorRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newTestServer(t, Deps{Self: report.Identity{Pod: "backend-0"}, Sidecar: tt.sidecar})
			var got report.BackendWhoami
			if code := getJSON(t, h, "/api/whoami", &got); code != http.StatusOK {
				t.Fatalf("GET /api/whoami = %d, want 200 even when the sidecar is down", code)
			}
			if got.Sidecar.OK != tt.wantOK || got.Sidecar.ErrorKind != tt.wantKind || got.Sidecar.ID != report.IDSidecar {
				t.Errorf("sidecar %s: got ok=%v kind=%q id=%q, want ok=%v kind=%q id=backend-sidecar-localhost",
					tt.sidecar, got.Sidecar.OK, got.Sidecar.ErrorKind, got.Sidecar.ID, tt.wantOK, tt.wantKind)
			}
		})
	}
}

func TestPeersCallsEverySiblingByPerPodName(t *testing.T) {
	t.Parallel()
	zone := localdns.NewZone("cluster.local")
	dns, err := localdns.Start("127.0.0.1:0", zone)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dns.Close() }) //nolint:errcheck
	headless := "backend-headless.podpaths.svc.cluster.local"
	var srvs []localdns.SRV
	for _, pod := range []string{"backend-0", "backend-1"} {
		ip, port := hostPort(t, whoamiServer(t, pod).URL)
		zone.SetA(pod+"."+headless, ip)
		srvs = append(srvs, localdns.SRV{Target: pod + "." + headless, Port: port})
	}
	zone.SetSRV("_http._tcp."+headless, srvs...)

	h := newTestServer(t, Deps{
		Self: report.Identity{Pod: "backend-0"},
		Siblings: discovery.Peer{Service: "backend-headless", Headless: "backend-headless", PortName: "http",
			Namespace: "podpaths", Domain: "cluster.local", Resolver: discovery.NewResolver(dns.Addr(), time.Second)},
	})
	var got report.Report
	if code := getJSON(t, h, "/api/peers", &got); code != http.StatusOK {
		t.Fatalf("GET /api/peers = %d, want 200", code)
	}
	if got.Summary.Total != 2 || got.Summary.OK != 2 {
		t.Fatalf("GET /api/peers summary = %+v, want 2 ok paths: %+v", got.Summary, got.Paths)
	}
	for i, want := range []string{"backend-0", "backend-1"} {
		p := got.Paths[i]
		if p.ID != report.SiblingID("backend-0", want) || p.AnsweredBy == nil || p.AnsweredBy.Pod != want {
			t.Errorf("path %d = id %q answered by %+v, want %s answered by %s", i, p.ID, p.AnsweredBy, report.SiblingID("backend-0", want), want)
		}
	}

	zone.Delete("_http._tcp." + headless)
	if code := getJSON(t, h, "/api/peers", &got); code != http.StatusOK || got.Summary.Failed != 1 || got.Paths[0].ErrorKind != report.ErrorDNS {
		t.Errorf("after the SRV records are gone: code %d, report %+v, want 200 with one failed dns path", code, got)
	}
}

func TestUnknownRouteIsJSON404(t *testing.T) {
	t.Parallel()
	h := newTestServer(t, Deps{})
	var body serve.ErrorBody
	if code := getJSON(t, h, "/nope", &body); code != http.StatusNotFound || body.Error == "" {
		t.Errorf("GET /nope = %d %+v, want 404 with a JSON error", code, body)
	}
}
