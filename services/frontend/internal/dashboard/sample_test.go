package dashboard

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podpaths/podpaths/platform/report"
)

// samplePage is a lab in an interesting state: one headless pod times out, the
// nginx route fails, env is unconfigured because the frontend pod started
// before the backend Service, and a path the picture does not know.
func samplePage() Page {
	sidecar := func(pod string) report.Path {
		return report.Path{
			ID: "backend-sidecar-localhost", From: "backend", To: "sidecar", Method: report.MethodLocalhost,
			Query: "127.0.0.1:9000", Addresses: []string{"127.0.0.1:9000"}, OK: true, Status: 200, LatencyMS: 0.31,
			AnsweredBy: &report.Pod{Pod: pod, PodIP: podIP(pod), Node: podNode(pod)}, ClientIPSeen: "127.0.0.1",
			Expected: report.ExpectOK,
		}
	}
	answered := func(pod string) *report.Pod {
		return &report.Pod{Pod: pod, PodIP: podIP(pod), Node: podNode(pod)}
	}
	paths := []report.Path{
		{
			ID: "nginx-frontend-localhost", From: "nginx", To: "frontend", Method: report.MethodLocalhost,
			Query: "127.0.0.1:8080", Addresses: []string{"127.0.0.1:8080"}, OK: true, Status: 200, LatencyMS: 0.8,
			AnsweredBy:   &report.Pod{Pod: "frontend-6f7c9d8b5-x2k4p", PodIP: "10.244.1.7", Node: "podpaths-worker"},
			ClientIPSeen: "127.0.0.1", Expected: report.ExpectOK,
		},
		{
			ID: "frontend-backend-env", From: "frontend", To: "backend", Method: report.MethodEnv,
			Query: "BACKEND_SERVICE_HOST, BACKEND_SERVICE_PORT", ErrorKind: report.ErrorUnconfigured,
			Error:    "BACKEND_SERVICE_HOST is not set: the pod started before the Service, or enableServiceLinks is false",
			Expected: report.ExpectOK,
		},
		{
			ID: "frontend-backend-dns", From: "frontend", To: "backend", Method: report.MethodDNS,
			Query: "backend.podpaths.svc.cluster.local", Addresses: []string{"10.96.4.20:8080"}, OK: true, Status: 200,
			LatencyMS: 1.7, AnsweredBy: answered("backend-1"), ClientIPSeen: "10.244.1.7", Expected: report.ExpectOK,
			FromNode: "podpaths-worker", ToNode: "podpaths-worker2",
			Hops: []report.Path{sidecar("backend-1")},
		},
		{
			ID: "frontend-backend-sticky-dns", From: "frontend", To: "backend", Method: report.MethodDNS,
			Query: "backend-sticky.podpaths.svc.cluster.local", Addresses: []string{"10.96.7.3:8080"}, OK: true,
			Status: 200, LatencyMS: 2.1, AnsweredBy: answered("backend-0"), ClientIPSeen: "10.244.1.7",
			Expected: report.ExpectOK,
		},
		{
			ID: "frontend-backend-local-dns", From: "frontend", To: "backend", Method: report.MethodDNS,
			Query: "backend-local.podpaths.svc.cluster.local", Addresses: []string{"10.96.9.14:8080"},
			ErrorKind: report.ErrorTimeout, Error: "dial tcp 10.96.9.14:8080: i/o timeout", LatencyMS: 2000,
			Expected: report.ExpectFail,
		},
		{
			ID: "frontend-backend-headless-backend-0", From: "frontend", To: "backend", Method: report.MethodHeadless,
			Query: "backend-0.backend-headless.podpaths.svc.cluster.local", Addresses: []string{"10.244.1.5:8080"},
			OK: true, Status: 200, LatencyMS: 0.9, AnsweredBy: answered("backend-0"), ClientIPSeen: "10.244.1.7",
			Expected: report.ExpectOK, FromNode: "podpaths-worker", ToNode: "podpaths-worker",
			Hops: []report.Path{sidecar("backend-0")},
		},
		{
			ID: "frontend-backend-headless-backend-1", From: "frontend", To: "backend", Method: report.MethodHeadless,
			Query: "backend-1.backend-headless.podpaths.svc.cluster.local", Addresses: []string{"10.244.2.5:8080"},
			OK: true, Status: 200, LatencyMS: 1.4, AnsweredBy: answered("backend-1"), ClientIPSeen: "10.244.1.7",
			Expected: report.ExpectOK,
		},
		{
			ID: "frontend-backend-headless-backend-2", From: "frontend", To: "backend", Method: report.MethodHeadless,
			Query: "backend-2.backend-headless.podpaths.svc.cluster.local", Addresses: []string{"10.244.2.9:8080"},
			ErrorKind: report.ErrorTimeout, Error: "Get \"http://10.244.2.9:8080/api/whoami\": context deadline exceeded",
			LatencyMS: 2000, Expected: report.ExpectOK,
		},
		{
			ID: "backend-backend-0-backend-backend-1-headless", From: "backend", To: "backend", Method: report.MethodHeadless,
			Query: "backend-1.backend-headless.podpaths.svc.cluster.local", Addresses: []string{"10.244.2.5:8080"},
			OK: true, Status: 200, LatencyMS: 1.2, AnsweredBy: answered("backend-1"), Expected: report.ExpectOK,
		},
		{
			ID: "backend-backend-0-backend-backend-2-headless", From: "backend", To: "backend", Method: report.MethodHeadless,
			Query: "backend-2.backend-headless.podpaths.svc.cluster.local", Addresses: []string{"10.244.2.9:8080"},
			ErrorKind: report.ErrorRefused, Error: "dial tcp 10.244.2.9:8080: connect: connection refused",
			LatencyMS: 0.4, Expected: report.ExpectOK,
		},
		{
			ID: "nginx-backend-dns", From: "nginx", To: "backend", Method: report.MethodDNS,
			Query: "/my-be/ -> backend.podpaths.svc.cluster.local", Addresses: []string{"10.96.4.20:8080"},
			Status: 502, ErrorKind: report.ErrorHTTP, Error: "nginx answered 502 Bad Gateway", LatencyMS: 3.2,
			Expected: report.ExpectOK,
		},
		{
			ID: report.FrontendBackendID(report.MethodStatic), From: "frontend", To: "backend", Method: report.MethodStatic,
			Query: "10.96.0.80:8080", Addresses: []string{"10.96.0.80:8080"}, ErrorKind: report.ErrorTimeout,
			Error: "dial tcp 10.96.0.80:8080: i/o timeout", LatencyMS: 2000, Expected: report.ExpectOK,
		},
		{
			ID: "frontend-backend-elsewhere", From: "frontend", To: "backend", Method: report.MethodStatic,
			Query: "PODPATHS_BACKEND_ADDR", Addresses: []string{"10.96.4.20:8080"}, OK: true, Status: 200,
			LatencyMS: 1.1, AnsweredBy: answered("backend-2"), Expected: report.ExpectOK,
		},
	}
	return Page{
		Title: "podpaths",
		Self: report.Identity{
			Service: "frontend", Version: "0.1.0+g1234abc", Pod: "frontend-6f7c9d8b5-x2k4p", Namespace: "podpaths",
			PodIP: "10.244.1.7", Node: "podpaths-worker", NodeIP: "172.18.0.3",
		},
		Entry: Entry{
			Via: "NodePort 30080", Host: "localhost:30080",
			ClientIPs: []Hop{{Hop: "nginx", IP: "10.244.0.1"}, {Hop: "frontend", IP: "127.0.0.1"}},
		},
		Report: report.New("frontend-6f7c9d8b5-x2k4p", time.Date(2025, 6, 1, 12, 3, 4, 0, time.UTC), paths),
		Spreads: []report.Spread{
			{
				N:      30,
				Pods:   []report.PodCount{{Pod: "backend-0", Count: 11}, {Pod: "backend-1", Count: 9}, {Pod: "backend-2", Count: 8}},
				Errors: map[string]int{"refused": 2},
			},
			{
				KeepAlive: true, N: 30,
				Pods: []report.PodCount{{Pod: "backend-1", Count: 30}},
			},
		},
		Links: []report.Link{
			{Name: "KUBERNETES_SERVICE_PORT", Value: "443"},
			{Name: "KUBERNETES_SERVICE_HOST", Value: "10.96.0.1"},
			{Name: "KUBERNETES_SERVICE_PORT_HTTPS", Value: "443"},
		},
	}
}

func podIP(pod string) string {
	return map[string]string{"backend-0": "10.244.1.5", "backend-1": "10.244.2.5", "backend-2": "10.244.2.9"}[pod]
}

func podNode(pod string) string {
	if pod == "backend-0" {
		return "podpaths-worker"
	}
	return "podpaths-worker2"
}

// TestWriteSample writes the sample page, an empty page and their assets to
// the directory named by PODPATHS_DASHBOARD_SAMPLE, to look at in a browser:
//
//	PODPATHS_DASHBOARD_SAMPLE=/tmp/dashboard go test -run TestWriteSample ./internal/dashboard/
//
// It is a tool, not a check, so it skips when the variable is unset.
func TestWriteSample(t *testing.T) {
	dir := os.Getenv("PODPATHS_DASHBOARD_SAMPLE")
	if dir == "" {
		t.Skip("set PODPATHS_DASHBOARD_SAMPLE to a directory to write a sample page")
	}
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	pages := map[string]Page{"index.html": samplePage(), "empty.html": {}}
	for name, p := range pages {
		var page strings.Builder
		if err := r.Render(&page, p); err != nil {
			t.Fatal(err)
		}
		// A file:// page resolves /static/ at the file system root; point
		// it at the copies next to it instead.
		html := strings.ReplaceAll(page.String(), `"/static/`, `"static/`)
		writeFile(t, filepath.Join(dir, name), html)
	}
	for _, name := range []string{"dashboard.css", "dashboard.js"} {
		rec := httptest.NewRecorder()
		Assets().ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/static/"+name, nil))
		writeFile(t, filepath.Join(dir, "static", name), rec.Body.String())
	}
	t.Logf("wrote %s", filepath.Join(dir, "index.html"))
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
