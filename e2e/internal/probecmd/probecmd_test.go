package probecmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podpaths/podpaths/platform/identity"
	"github.com/podpaths/podpaths/platform/localdns"
	"github.com/podpaths/podpaths/platform/report"
)

// runProbe runs a probe command and returns its exit code and output.
func runProbe(t *testing.T, ctx context.Context, environ []string, args ...string) (int, []byte, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Run(ctx, args, environ, &stdout, &stderr)
	return code, stdout.Bytes(), stderr.String()
}

// whoamiServer answers /whoami like the services do, as pod "pod-a".
func whoamiServer(t *testing.T) *httptest.Server {
	t.Helper()
	self := report.Identity{Service: "backend", Pod: "pod-a", PodIP: "10.244.0.7", Node: "node-a", Hostname: "pod-a"}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(identity.ForRequest(self, r)) //nolint:errcheck,errchkjson // test server
	})
	mux.HandleFunc("GET /broken", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "broken", http.StatusBadGateway)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// startDNS serves zone on loopback and returns its address.
func startDNS(t *testing.T, zone *localdns.Zone) string {
	t.Helper()
	srv, err := localdns.Start("127.0.0.1:0", zone)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("close DNS server: %v", err)
		}
	})
	return srv.Addr()
}

func TestGetKeepAliveSharesOneConnection(t *testing.T) {
	t.Parallel()
	srv := whoamiServer(t)
	code, stdout, stderr := runProbe(t, t.Context(), nil, "get", srv.URL+"/whoami", "--count", "4")
	if code != exitOK {
		t.Fatalf("probe get exit code = %d, want 0; stderr %q", code, stderr)
	}
	var out report.ProbeCalls
	if err := Decode(stdout, &out); err != nil {
		t.Fatal(err)
	}
	if out.OK != 4 || out.Failed != 0 || !out.KeepAlive {
		t.Errorf("ok/failed/keepalive = %d/%d/%t, want 4/0/true", out.OK, out.Failed, out.KeepAlive)
	}
	if conns := out.Connections(); len(conns) != 1 {
		t.Errorf("keep-alive calls used connections %q, want exactly one", conns)
	}
	for _, c := range out.Calls[1:] {
		if !c.Reused {
			t.Errorf("call %d: reused = false, want true with keep-alive", c.Seq)
		}
	}
	first := out.Calls[0]
	if first.AnsweredBy == nil || first.AnsweredBy.Pod != "pod-a" || first.Hostname != "pod-a" {
		t.Errorf("answered by %+v hostname %q, want pod-a/pod-a", first.AnsweredBy, first.Hostname)
	}
	if first.ClientIP != "127.0.0.1" {
		t.Errorf("client IP seen = %q, want 127.0.0.1", first.ClientIP)
	}
	if got := out.Pods(); got["pod-a"] != 4 {
		t.Errorf("Pods() = %v, want pod-a=4", got)
	}
}

func TestGetWithoutKeepAliveOpensAConnectionPerCall(t *testing.T) {
	t.Parallel()
	srv := whoamiServer(t)
	code, stdout, _ := runProbe(t, t.Context(), nil, "get", "--no-keepalive", srv.URL+"/whoami", "--count=3")
	var out report.ProbeCalls
	if err := Decode(stdout, &out); err != nil {
		t.Fatal(err)
	}
	if code != exitOK || out.OK != 3 {
		t.Fatalf("exit %d, ok %d; want 0, 3", code, out.OK)
	}
	if conns := out.Connections(); len(conns) != 3 {
		t.Errorf("calls without keep-alive used connections %q, want 3 different ones", conns)
	}
}

func TestGetClassifiesFailures(t *testing.T) {
	t.Parallel()
	srv := whoamiServer(t)

	// A port nobody listens on: the kernel answers the SYN with a reset.
	l, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// A server that accepts and never answers.
	hang := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	t.Cleanup(hang.Close)

	tests := []struct {
		name string
		url  string
		want report.ErrorKind
	}{
		{"refused", "http://" + closed + "/whoami", report.ErrorRefused},
		{"timeout", hang.URL + "/", report.ErrorTimeout},
		{"http status", srv.URL + "/broken", report.ErrorHTTP},
		// Resolved by a loopback DNS server that knows no such name: a
		// test must never ask the machine's own resolver.
		{"dns", "http://missing.podpaths.svc.cluster.local/", report.ErrorDNS},
	}
	dns := startDNS(t, localdns.NewZone("cluster.local"))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, _ := runProbe(t, t.Context(), nil, "get", tt.url, "--timeout", "300ms", "--dns-server", dns)
			var out report.ProbeCalls
			if err := Decode(stdout, &out); err != nil {
				t.Fatal(err)
			}
			if code != exitFailed {
				t.Errorf("exit code = %d, want %d", code, exitFailed)
			}
			if got := out.Calls[0].ErrorKind; got != tt.want || out.ErrorKinds[tt.want] != 1 {
				t.Errorf("get %s: error kind %q (kinds %v), want %q; error %q", tt.url, got, out.ErrorKinds, tt.want, out.Calls[0].Error)
			}
		})
	}
}

func TestLookupAndSRVAgainstALoopbackDNSServer(t *testing.T) {
	t.Parallel()
	zone := localdns.NewZone("cluster.local")
	zone.SetA("backend-headless.podpaths.svc.cluster.local", "10.244.0.9", "10.244.0.8")
	zone.SetA("backend-0.backend-headless.podpaths.svc.cluster.local", "10.244.0.8")
	zone.SetSRV("_http._tcp.backend-headless.podpaths.svc.cluster.local",
		localdns.SRV{Target: "backend-1.backend-headless.podpaths.svc.cluster.local", Port: 8080},
		localdns.SRV{Target: "backend-0.backend-headless.podpaths.svc.cluster.local", Port: 8080})
	dns := startDNS(t, zone)

	code, stdout, stderr := runProbe(t, t.Context(), nil, "lookup", "backend-headless.podpaths.svc.cluster.local", "--dns-server", dns)
	var a report.ProbeLookup
	if err := Decode(stdout, &a); err != nil {
		t.Fatalf("%v (stderr %q)", err, stderr)
	}
	if code != exitOK || strings.Join(a.Addresses, ",") != "10.244.0.8,10.244.0.9" {
		t.Errorf("lookup: exit %d, addresses %q; want 0, sorted [10.244.0.8 10.244.0.9]", code, a.Addresses)
	}

	code, stdout, _ = runProbe(t, t.Context(), nil, "srv", "_http._tcp.backend-headless.podpaths.svc.cluster.local", "--dns-server", dns)
	var s report.ProbeLookup
	if err := Decode(stdout, &s); err != nil {
		t.Fatal(err)
	}
	if code != exitOK || len(s.Records) != 2 || s.Records[0].Target != "backend-0.backend-headless.podpaths.svc.cluster.local." || s.Records[0].Port != 8080 {
		t.Errorf("srv: exit %d, records %+v; want backend-0 and backend-1 on 8080, sorted", code, s.Records)
	}

	code, stdout, _ = runProbe(t, t.Context(), nil, "lookup", "missing.podpaths.svc.cluster.local", "--dns-server", dns)
	var m report.ProbeLookup
	if err := Decode(stdout, &m); err != nil {
		t.Fatal(err)
	}
	if code != exitFailed || m.ErrorKind != report.ErrorDNS {
		t.Errorf("lookup of a missing name: exit %d, kind %q; want 1, dns", code, m.ErrorKind)
	}
}

func TestEnvPrintsTheEnvironment(t *testing.T) {
	t.Parallel()
	code, stdout, _ := runProbe(t, t.Context(), []string{"BACKEND_SERVICE_HOST=10.96.0.20", "EMPTY=", "A=b=c"}, "env")
	var out report.ProbeEnv
	if err := Decode(stdout, &out); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"BACKEND_SERVICE_HOST": "10.96.0.20", "EMPTY": "", "A": "b=c"}
	if code != exitOK || len(out.Env) != len(want) {
		t.Fatalf("env: exit %d, env %v; want 0, %v", code, out.Env, want)
	}
	for k, v := range want {
		if out.Env[k] != v {
			t.Errorf("env[%q] = %q, want %q", k, out.Env[k], v)
		}
	}
}

func TestSleepBlocksUntilCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int)
	go func() {
		code, _, _ := runProbe(t, ctx, nil, "sleep")
		done <- code
	}()
	select {
	case code := <-done:
		t.Fatalf("sleep returned %d before it was stopped", code)
	case <-time.After(50 * time.Millisecond):
		// Still sleeping, as it should be; this bounds how long the test looks.
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Errorf("sleep exit code after stop = %d, want 0", code)
	}
}

// TestTermStopsAProcess: term sends SIGTERM, and the process ends by it.
func TestTermStopsAProcess(t *testing.T) {
	t.Parallel()
	sleep := exec.CommandContext(t.Context(), "sleep", "60")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runProbe(t, t.Context(), nil, "term", strconv.Itoa(sleep.Process.Pid))
	if code != exitOK {
		t.Fatalf("term: exit %d, stderr %q", code, stderr)
	}
	err := sleep.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGTERM {
		t.Errorf("sleep ended with %v, want SIGTERM", err)
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	tests := [][]string{
		nil,
		{"fly"},
		{"get"},
		{"get", "http://a", "http://b"},
		{"get", "http://a", "--count", "0"},
		{"get", "http://a", "--bogus"},
		{"get", "http://a", "--local-port", "70000"},
		{"get", "http://a", "--local-port", "40000", "--count", "2"},
		{"lookup"},
		{"env", "x"},
		{"sleep", "x"},
		{"term"},
		{"term", "0"},
		{"term", "one"},
		{"term", "1", "2"},
	}
	for _, args := range tests {
		code, stdout, stderr := runProbe(t, t.Context(), nil, args...)
		if code != exitUsage || len(stdout) != 0 || !strings.Contains(stderr, "usage:") {
			t.Errorf("probe %q: exit %d, stdout %q, stderr %q; want 2, nothing, usage", args, code, stdout, stderr)
		}
	}
}

// TestGetFromALocalPort: --local-port fixes the source port the server sees.
func TestGetFromALocalPort(t *testing.T) {
	t.Parallel()
	seen := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.RemoteAddr
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	// A port that was free a moment ago: the kernel hands out ephemeral
	// ports in turn, so it does not give this one away again at once.
	l, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runProbe(t, t.Context(), nil, "get", srv.URL, "--local-port", port)
	if code != 0 {
		t.Fatalf("exit %d, stdout %s, stderr %q", code, stdout, stderr)
	}
	want := net.JoinHostPort("127.0.0.1", port)
	if got := <-seen; got != want {
		t.Errorf("server saw the call from %s, want %s", got, want)
	}
	var out report.ProbeCalls
	if err := json.Unmarshal(stdout, &out); err != nil {
		t.Fatal(err)
	}
	if got := out.Calls[0].LocalAddr; got != want {
		t.Errorf("probe reports local address %s, want %s", got, want)
	}
}
