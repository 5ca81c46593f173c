package probe_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/podpaths/podpaths/platform/discovery"
	"github.com/podpaths/podpaths/platform/identity"
	"github.com/podpaths/podpaths/platform/probe"
	"github.com/podpaths/podpaths/platform/report"
)

const (
	// callTimeout is the per-call bound the prober is given in tests that
	// expect a timeout.
	callTimeout = 200 * time.Millisecond
	// boundSlack is how much later than callTimeout such a call may return.
	// It is generous so a loaded machine cannot fail the test; a call that
	// ignored its timeout would still hang far past it.
	boundSlack = 2 * time.Second
	// okTimeout bounds calls that should succeed.
	okTimeout = 10 * time.Second
)

// freeAddr returns a loopback address nothing listens on: bound, then closed.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("Listen error = %v", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatalf("Close error = %v", err)
	}
	return addr
}

// hangingAddr returns the address of a TCP listener that accepts connections
// and never reads or answers, like a peer whose process is stuck.
func hangingAddr(t *testing.T) string {
	t.Helper()
	ln, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("Listen error = %v", err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close() //nolint:errcheck // test cleanup
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close() //nolint:errcheck // test cleanup
		}
	})
	return ln.Addr().String()
}

// refusedErr dials a closed loopback port and returns the real error.
func refusedErr(t *testing.T) error {
	t.Helper()
	c, err := (&net.Dialer{}).DialContext(t.Context(), "tcp", freeAddr(t))
	if err == nil {
		c.Close() //nolint:errcheck // unexpected connection
		t.Fatalf("dial of a closed port succeeded")
	}
	return err
}

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func TestClassify(t *testing.T) {
	t.Parallel()
	refused := refusedErr(t)
	tests := []struct {
		name string
		err  error
		want report.ErrorKind
	}{
		{name: "nil", err: nil, want: report.ErrorNone},
		{name: "unconfigured", err: discovery.ErrUnconfigured, want: report.ErrorUnconfigured},
		{name: "unconfigured wrapped", err: fmt.Errorf("find backend: %w", fmt.Errorf("%w: no BACKEND_SERVICE_HOST", discovery.ErrUnconfigured)), want: report.ErrorUnconfigured},
		{name: "DNS not found", err: fmt.Errorf("lookup: %w", &net.DNSError{Err: "no such host", Name: "backend", IsNotFound: true}), want: report.ErrorDNS},
		{name: "DNS server failure", err: &net.DNSError{Err: "server misbehaving", Name: "backend", Server: "127.0.0.1:53"}, want: report.ErrorDNS},
		{name: "DNS timeout is dns", err: &net.DNSError{Err: "i/o timeout", Name: "backend", IsTimeout: true}, want: report.ErrorDNS},
		{name: "connection refused from a real dial", err: refused, want: report.ErrorRefused},
		{name: "connection refused wrapped", err: fmt.Errorf("GET: %w", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}), want: report.ErrorRefused},
		{name: "connection refused in a url.Error", err: &url.Error{Op: "Get", URL: "http://x", Err: &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}, want: report.ErrorRefused},
		{name: "deadline exceeded", err: context.DeadlineExceeded, want: report.ErrorTimeout},
		{name: "deadline exceeded in a url.Error", err: &url.Error{Op: "Get", URL: "http://x", Err: context.DeadlineExceeded}, want: report.ErrorTimeout},
		{name: "an I/O deadline wrapped", err: fmt.Errorf("wrapped: %w", os.ErrDeadlineExceeded), want: report.ErrorTimeout},
		{name: "deadline exceeded wrapped", err: fmt.Errorf("call: %w", context.DeadlineExceeded), want: report.ErrorTimeout},
		{name: "net.Error timeout", err: fmt.Errorf("read: %w", timeoutError{}), want: report.ErrorTimeout},
		{name: "cancelled is not a timeout", err: context.Canceled, want: report.ErrorOther},
		{name: "other", err: errors.New("boom"), want: report.ErrorOther},
		{name: "connection reset", err: os.NewSyscallError("read", syscall.ECONNRESET), want: report.ErrorOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := probe.Classify(tt.err); got != tt.want {
				t.Errorf("Classify(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}

// whoamiServer answers like a backend's /whoami, and records the Host header
// it was asked for.
func whoamiServer(t *testing.T) (*httptest.Server, *atomic.Value) {
	t.Helper()
	var host atomic.Value
	id := report.Identity{Service: "backend", Pod: "backend-1", PodIP: "10.244.2.5", Node: "podpaths-worker2"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host.Store(r.Host)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(identity.ForRequest(id, r)) //nolint:errcheck // test handler
	}))
	t.Cleanup(srv.Close)
	return srv, &host
}

func statusServer(t *testing.T, status int, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(status)
		fmt.Fprint(w, body) //nolint:errcheck // test handler
	}))
	t.Cleanup(srv.Close)
	return srv
}

func addrOf(srv *httptest.Server) string { return strings.TrimPrefix(srv.URL, "http://") }

func newProber(timeout time.Duration) *probe.Prober {
	// The client's own timeout is far longer, so only the prober's per-call
	// timeout can end a hanging call early.
	return &probe.Prober{Client: probe.NewClient(probe.ClientOptions{Timeout: time.Minute}), Timeout: timeout}
}

func TestGetWhoami(t *testing.T) {
	t.Parallel()
	srv, host := whoamiServer(t)
	res := newProber(okTimeout).Get(t.Context(), addrOf(srv), "/whoami", "backend-1.backend-headless.podpaths.svc.cluster.local")
	if res.Err != nil || res.Kind != report.ErrorNone || res.Status != http.StatusOK {
		t.Fatalf("Get(whoami) = status %d kind %q err %v, want 200, no error", res.Status, res.Kind, res.Err)
	}
	if got := host.Load(); got != "backend-1.backend-headless.podpaths.svc.cluster.local" {
		t.Errorf("peer saw Host %q, want the per-pod name the caller looked up", got)
	}
	if res.Latency <= 0 {
		t.Errorf("Get(whoami).Latency = %v, want > 0", res.Latency)
	}

	var p report.Path
	probe.Fill(&p, res)
	want := &report.Pod{Pod: "backend-1", PodIP: "10.244.2.5", Node: "podpaths-worker2"}
	if p.AnsweredBy == nil || *p.AnsweredBy != *want {
		t.Errorf("Fill(whoami).AnsweredBy = %+v, want %+v", p.AnsweredBy, want)
	}
	if !p.OK || p.Status != 200 || p.ErrorKind != "" || p.Error != "" {
		t.Errorf("Fill(whoami) = ok %v status %d kind %q error %q, want ok 200 and no error", p.OK, p.Status, p.ErrorKind, p.Error)
	}
	if p.ClientIPSeen != "127.0.0.1" || p.ToNode != "podpaths-worker2" {
		t.Errorf("Fill(whoami) = client_ip_seen %q to_node %q, want 127.0.0.1 and podpaths-worker2", p.ClientIPSeen, p.ToNode)
	}
	if p.LatencyMS <= 0 {
		t.Errorf("Fill(whoami).LatencyMS = %v, want > 0", p.LatencyMS)
	}
}

func TestGetWithoutHostUsesAddr(t *testing.T) {
	t.Parallel()
	srv, host := whoamiServer(t)
	if res := newProber(okTimeout).Get(t.Context(), addrOf(srv), "/whoami", ""); res.Err != nil {
		t.Fatalf("Get error = %v", res.Err)
	}
	if got := host.Load(); got != addrOf(srv) {
		t.Errorf("peer saw Host %q, want the address %q", got, addrOf(srv))
	}
}

func TestGetFailures(t *testing.T) {
	t.Parallel()
	unavailable := statusServer(t, http.StatusServiceUnavailable, `{"error":"draining"}`)
	notFound := statusServer(t, http.StatusNotFound, "")
	tests := []struct {
		name       string
		addr       string
		wantKind   report.ErrorKind
		wantStatus int
		wantErr    string
	}{
		{name: "503", addr: addrOf(unavailable), wantKind: report.ErrorHTTP, wantStatus: 503, wantErr: "status 503 Service Unavailable: draining"},
		{name: "404", addr: addrOf(notFound), wantKind: report.ErrorHTTP, wantStatus: 404, wantErr: "status 404"},
		{name: "refused", addr: freeAddr(t), wantKind: report.ErrorRefused, wantErr: "connection refused"},
		{name: "unparseable address", addr: "127.0.0.1:80\x7f", wantKind: report.ErrorOther, wantErr: "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := newProber(okTimeout).Get(t.Context(), tt.addr, "/whoami", "")
			if res.Kind != tt.wantKind || res.Status != tt.wantStatus || res.Err == nil || !strings.Contains(res.Err.Error(), tt.wantErr) {
				t.Errorf("Get(%q) = kind %q status %d err %v, want kind %q status %d err containing %q",
					tt.addr, res.Kind, res.Status, res.Err, tt.wantKind, tt.wantStatus, tt.wantErr)
			}
			var p report.Path
			probe.Fill(&p, res)
			if p.OK || p.ErrorKind != tt.wantKind || p.Error == "" || p.AnsweredBy != nil {
				t.Errorf("Fill(%s) = ok %v kind %q error %q answered_by %v, want failed, kind %q, an error, nobody",
					tt.name, p.OK, p.ErrorKind, p.Error, p.AnsweredBy, tt.wantKind)
			}
		})
	}
}

func TestGetKeepsBodyOfHTTPError(t *testing.T) {
	t.Parallel()
	srv := statusServer(t, http.StatusServiceUnavailable, `{"error":"draining"}`)
	res := newProber(okTimeout).Get(t.Context(), addrOf(srv), "/", "")
	if string(res.Body) != `{"error":"draining"}` {
		t.Errorf("Get(503).Body = %q, want the peer's answer", res.Body)
	}
}

// TestGetTimeouts checks that a peer that never answers costs at most the
// per-call timeout, and is reported as a timeout.
func TestGetTimeouts(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	headersThenHang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-release
	}))
	t.Cleanup(headersThenHang.Close)
	t.Cleanup(func() { close(release) }) // runs before Close, which waits for handlers

	tests := []struct {
		name       string
		addr       string
		wantStatus int
	}{
		{name: "accepts and never answers", addr: hangingAddr(t)},
		{name: "sends headers and never the body", addr: addrOf(headersThenHang), wantStatus: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			res := newProber(callTimeout).Get(t.Context(), tt.addr, "/whoami", "")
			took := time.Since(start)
			if res.Kind != report.ErrorTimeout || res.Status != tt.wantStatus {
				t.Errorf("Get(hanging peer) = kind %q status %d err %v, want timeout and status %d", res.Kind, res.Status, res.Err, tt.wantStatus)
			}
			if took > callTimeout+boundSlack {
				t.Errorf("Get(hanging peer) with timeout %v took %v, want at most %v", callTimeout, took, callTimeout+boundSlack)
			}
			var p report.Path
			probe.Fill(&p, res)
			if p.OK {
				t.Errorf("Fill(timeout).OK = true, want false")
			}
		})
	}
}
