package matrix

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/podpaths/podpaths/platform/report"
)

// The fake lab's answers: handlers for the fake frontend and the JSON it
// sends, as the real services would.

func jsonHandler(v any) http.HandlerFunc {
	body, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body) // a failed write shows up as the client's error
	}
}

func rawHandler(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

// spreadHandler answers /api/spread and insists on the query the matrix must send.
func spreadHandler(counts map[string]int, failed int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("n") != "20" || r.URL.Query().Get("keepalive") != "false" {
			http.Error(w, `{"error":"bad query"}`, http.StatusBadRequest)
			return
		}
		jsonHandler(spreadAnswer(counts, failed))(w, r)
	}
}

// busyOnce answers the first call 429 Too Many Requests, as nginx's rate
// limit does, asking for no wait, and every later one with next.
func busyOnce(next http.HandlerFunc) http.HandlerFunc {
	var calls atomic.Int32
	return func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "0")
			http.Error(w, `{"error":"busy"}`, http.StatusTooManyRequests)
			return
		}
		next(w, r)
	}
}

// spreadAnswer is /api/spread's answer: the pods that answered, with counts,
// and the failed calls as refusals.
func spreadAnswer(counts map[string]int, failed int) report.Spread {
	s := report.Spread{Service: "backend", Method: report.MethodDNS, N: failed, Errors: map[string]int{}}
	for pod, c := range counts {
		s.Pods = append(s.Pods, report.PodCount{Pod: pod, Node: workerNode, Count: c})
		s.N += c
	}
	if failed > 0 {
		s.Errors[string(report.ErrorRefused)] = failed
	}
	return s
}

func frontendIdentity() report.Whoami {
	return identitySeeing("172.18.0.1")
}

// identitySeeing is the frontend's identity with the client address nginx
// passed on.
func identitySeeing(ip string) report.Whoami {
	return report.Whoami{
		Identity: report.Identity{Service: "frontend", Version: "0.1.0", Pod: "frontend-7c9-abcde", Namespace: nsName,
			PodIP: "10.244.1.5", Node: workerNode},
		ClientIP:  "127.0.0.1",
		Forwarded: map[string]string{"x-real-ip": ip, "x-forwarded-for": ip},
	}
}

func backendIdentity() report.BackendWhoami {
	return report.BackendWhoami{
		Whoami: report.Whoami{Identity: report.Identity{Service: "backend", Pod: "backend-1", PodIP: "10.244.2.5", Node: worker2},
			ClientIP: "10.244.1.5"},
		Sidecar: report.Path{ID: report.IDSidecar, From: "backend", To: "sidecar", Method: report.MethodLocalhost,
			OK: true, Status: 200, LatencyMS: 0.3, Expected: report.ExpectOK,
			AnsweredBy: &report.Pod{Pod: "backend-1", PodIP: "10.244.2.5", Node: worker2}},
	}
}

// frontendReport has a passing path, a skipped (unconfigured) one and an
// expected failure that failed as it must.
func frontendReport() report.Report {
	by := &report.Pod{Pod: "backend-1", PodIP: "10.244.2.5", Node: worker2}
	return report.New("frontend-7c9-abcde", time.Unix(0, 0), []report.Path{
		{ID: report.IDNginxFrontend, From: "nginx", To: "frontend", Method: report.MethodLocalhost, OK: true, Status: 200, LatencyMS: 0.4, Expected: report.ExpectOK},
		{ID: report.FrontendBackendID(report.MethodEnv), From: "frontend", To: "backend", Method: report.MethodEnv, ErrorKind: report.ErrorUnconfigured,
			Error: "BACKEND_SERVICE_HOST not set: the pod started before the Service", Expected: report.ExpectOK},
		{ID: report.FrontendBackendID(report.MethodDNS), From: "frontend", To: "backend", Method: report.MethodDNS, OK: true, Status: 200, LatencyMS: 1.7, AnsweredBy: by, Expected: report.ExpectOK},
		{ID: "frontend-sidecar-podip", From: "frontend", To: "backend-1 sidecar", Method: report.MethodStatic, ErrorKind: report.ErrorRefused,
			Error: "connect: connection refused", LatencyMS: 0.2, Expected: report.ExpectFail},
	})
}

func peersReport() report.Report {
	return report.New("backend-1", time.Unix(0, 0), []report.Path{
		{ID: report.SiblingID("backend-1", "backend-0"), From: "backend-1", To: "backend-0", Method: report.MethodHeadless, OK: true, Status: 200, Expected: report.ExpectOK,
			AnsweredBy: &report.Pod{Pod: "backend-0", Node: workerNode}},
		{ID: report.SiblingID("backend-1", "backend-2"), From: "backend-1", To: "backend-2", Method: report.MethodHeadless, OK: true, Status: 200, Expected: report.ExpectOK,
			AnsweredBy: &report.Pod{Pod: "backend-2", Node: cpNode}},
	})
}

// fixture is a fake cluster, its entries and the checker config.
type fixture struct {
	t      *testing.T
	front  *frontend
	server *httptest.Server
	routes map[string]string
	// outside maps what the outside client can reach; nothing by default,
	// as in the local cluster's outside network namespace.
	outside map[string]string
	objects []runtime.Object
	cfg     Config
	proxy   http.Handler // serves the API-server proxy when set
}
