package serve_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/podpaths/podpaths/platform/serve"
)

func TestListenPortInUse(t *testing.T) {
	t.Parallel()
	first, err := serve.Listen("app", "127.0.0.1:0", okHandler())
	if err != nil {
		t.Fatalf("Listen(app, 127.0.0.1:0) error = %v", err)
	}
	t.Cleanup(func() { first.Close() }) //nolint:errcheck // test cleanup
	if first.Name() != "app" || !strings.HasPrefix(first.Addr(), "127.0.0.1:") || strings.HasSuffix(first.Addr(), ":0") {
		t.Errorf("Listen(app, 127.0.0.1:0) = name %q addr %q, want app and a bound loopback port", first.Name(), first.Addr())
	}

	second, err := serve.Listen("admin", first.Addr(), okHandler())
	if err == nil {
		second.Close() //nolint:errcheck // test cleanup
		t.Fatalf("Listen(admin, %s) with the port in use: error = nil, want an error", first.Addr())
	}
	if msg := err.Error(); !strings.Contains(msg, "admin") || !strings.Contains(msg, first.Addr()) {
		t.Errorf("Listen(admin, %s) error = %q, want it to name the server and the address", first.Addr(), msg)
	}
}

func TestListenerClose(t *testing.T) {
	t.Parallel()
	l, err := serve.Listen("app", "127.0.0.1:0", okHandler())
	if err != nil {
		t.Fatalf("Listen error = %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("Close() error = %v", err)
	}
	if !refuses(t.Context(), l.Addr()) {
		t.Errorf("after Close, %s still accepts connections", l.Addr())
	}
}

func TestListenAndRunReleasesAppWhenAdminCannotBind(t *testing.T) {
	t.Parallel()
	busy, err := serve.Listen("busy", "127.0.0.1:0", okHandler())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { busy.Close() }) //nolint:errcheck // test cleanup
	free, err := serve.Listen("probe", "127.0.0.1:0", okHandler())
	if err != nil {
		t.Fatal(err)
	}
	appAddr := free.Addr()
	if err := free.Close(); err != nil {
		t.Fatal(err)
	}

	var ready atomic.Bool
	err = serve.ListenAndRun(t.Context(), slog.New(slog.NewJSONHandler(io.Discard, nil)), serve.Shutdown{Timeout: time.Second}, &ready,
		serve.Servers{AppAddr: appAddr, AdminAddr: busy.Addr(), App: okHandler(), Registry: serve.NewRegistry("t", "v")})
	if err == nil || !strings.Contains(err.Error(), "listen admin") {
		t.Fatalf("ListenAndRun with admin port %s in use = %v, want a listen admin error", busy.Addr(), err)
	}
	if ready.Load() {
		t.Errorf("ready after a failed start, want not ready")
	}
	again, err := serve.Listen("app", appAddr, okHandler())
	if err != nil {
		t.Fatalf("app port %s still held after the failed start: %v", appAddr, err)
	}
	again.Close() //nolint:errcheck // test cleanup
}

func TestRunServesUntilCancelled(t *testing.T) {
	t.Parallel()
	app, err := serve.Listen("app", "127.0.0.1:0", okHandler())
	if err != nil {
		t.Fatalf("Listen(app) error = %v", err)
	}
	var ready atomic.Bool
	admin, err := serve.Listen("admin", "127.0.0.1:0", serve.AdminHandler(serve.NewRegistry("t", "v"), &ready))
	if err != nil {
		t.Fatalf("Listen(admin) error = %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	logs := new(syncBuffer)
	done := make(chan error, 1)
	go func() {
		done <- serve.Run(ctx, slog.New(slog.NewJSONHandler(logs, nil)), serve.Shutdown{Timeout: 5 * time.Second}, &ready, app, admin)
	}()

	waitFor(t, "ready to become true", ready.Load)
	if status, body, err := get(t.Context(), "http://"+app.Addr()+"/"); err != nil || status != 200 || body != "hello" {
		t.Errorf("GET app / = %d %q (err %v), want 200 hello", status, body, err)
	}
	if status, _, err := get(t.Context(), "http://"+admin.Addr()+"/readyz"); err != nil || status != 200 {
		t.Errorf("GET admin /readyz while serving = %d (err %v), want 200", status, err)
	}
	for _, name := range []string{"app", "admin"} {
		if !strings.Contains(logs.String(), `"server":"`+name+`"`) {
			t.Errorf("log has no listening line for %s:\n%s", name, logs)
		}
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after cancel = %v, want nil", err)
		}
	case <-time.After(waitLimit):
		t.Fatalf("Run did not return within %v of cancel", waitLimit)
	}
	if ready.Load() {
		t.Errorf("ready after Run returned = true, want false")
	}
	for _, addr := range []string{app.Addr(), admin.Addr()} {
		if !refuses(t.Context(), addr) {
			t.Errorf("after Run returned, %s still accepts connections", addr)
		}
	}
}

// TestRunFinishesInFlightRequest checks the graceful part of shutdown: a
// request that started before cancel gets its whole answer.
func TestRunFinishesInFlightRequest(t *testing.T) {
	t.Parallel()
	entered, release := make(chan struct{}), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		close(entered)
		<-release
		io.WriteString(w, "finished") //nolint:errcheck // test handler
	})
	r := startRun(t, serve.Shutdown{Timeout: waitLimit}, h)
	waitFor(t, "ready", r.ready.Load)

	type answer struct {
		status int
		body   string
		err    error
	}
	answers := make(chan answer, 1)
	go func() {
		status, body, err := get(context.Background(), "http://"+r.addr+"/slow")
		answers <- answer{status, body, err}
	}()
	<-entered

	r.cancel()
	// Shutdown closes the listener first, then waits for the request.
	waitFor(t, "the listener to close", func() bool { return refuses(t.Context(), r.addr) })
	if r.ready.Load() {
		t.Errorf("ready during shutdown = true, want false")
	}
	if r.returned() {
		t.Fatalf("Run returned while a request was in flight")
	}

	close(release)
	a := <-answers
	if a.err != nil || a.status != http.StatusOK || a.body != "finished" {
		t.Errorf("in-flight GET /slow = %d %q (err %v), want 200 finished", a.status, a.body, a.err)
	}
	if err := r.wait(t); err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
}

// TestRunDrains checks that during the drain delay the pod reports not ready
// but still answers, as kube-proxy may still send it new connections.
func TestRunDrains(t *testing.T) {
	t.Parallel()
	const drain = 2 * time.Second
	var ready atomic.Bool
	app, err := serve.Listen("app", "127.0.0.1:0", okHandler())
	if err != nil {
		t.Fatalf("Listen(app) error = %v", err)
	}
	admin, err := serve.Listen("admin", "127.0.0.1:0", serve.AdminHandler(serve.NewRegistry("t", "v"), &ready))
	if err != nil {
		t.Fatalf("Listen(admin) error = %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	logs := new(syncBuffer)
	done := make(chan error, 1)
	go func() {
		done <- serve.Run(ctx, slog.New(slog.NewJSONHandler(logs, nil)), serve.Shutdown{DrainDelay: drain, Timeout: waitLimit}, &ready, app, admin)
	}()
	waitFor(t, "ready", ready.Load)

	cancelled := time.Now()
	cancel()
	readyz := func() int {
		status, _, err := get(t.Context(), "http://"+admin.Addr()+"/readyz")
		if err != nil {
			t.Fatalf("GET /readyz during drain: %v", err)
		}
		return status
	}
	waitFor(t, "/readyz to answer 503", func() bool { return readyz() == http.StatusServiceUnavailable })
	if status, body, err := get(t.Context(), "http://"+app.Addr()+"/"); err != nil || status != 200 || body != "hello" {
		t.Errorf("GET app / during drain = %d %q (err %v), want 200 hello", status, body, err)
	}
	select {
	case err := <-done:
		t.Fatalf("Run returned (%v) before the drain could be observed; drain %v", err, drain)
	default:
	}

	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	case <-time.After(drain + waitLimit):
		t.Fatalf("Run did not return within drain %v + %v", drain, waitLimit)
	}
	if took := time.Since(cancelled); took < drain {
		t.Errorf("Run returned %v after cancel, want at least the drain delay %v", took, drain)
	}
	if !strings.Contains(logs.String(), `"msg":"draining"`) {
		t.Errorf("log has no draining line:\n%s", logs)
	}
}

// TestRunShutdownTimeout checks that a request that outlives the shutdown
// timeout cannot keep the process alive: the server is closed.
func TestRunShutdownTimeout(t *testing.T) {
	t.Parallel()
	entered, release := make(chan struct{}), make(chan struct{})
	t.Cleanup(func() { close(release) })
	h := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		close(entered)
		<-release
	})
	r := startRun(t, serve.Shutdown{Timeout: 100 * time.Millisecond}, h)
	waitFor(t, "ready", r.ready.Load)
	errs := make(chan error, 1)
	go func() {
		// No client timeout: only the server closing can end this call
		// before the test does.
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+r.addr+"/stuck", nil)
		if err != nil {
			errs <- err
			return
		}
		resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
		if err == nil {
			resp.Body.Close() //nolint:errcheck // read-only body
		}
		errs <- err
	}()
	<-entered

	r.cancel()
	r.wait(t) //nolint:errcheck // the error is not part of this test
	select {
	case err := <-errs:
		if err == nil {
			t.Errorf("GET /stuck after forced close: error = nil, want the connection cut")
		}
	case <-time.After(waitLimit):
		t.Fatalf("GET /stuck still running %v after Run returned, want the connection closed", waitLimit)
	}
	if !strings.Contains(r.logs.String(), "graceful shutdown failed") {
		t.Errorf("log has no graceful shutdown failed line:\n%s", r.logs)
	}
}

func TestRunServeError(t *testing.T) {
	t.Parallel()
	l, err := serve.Listen("app", "127.0.0.1:0", okHandler())
	if err != nil {
		t.Fatalf("Listen error = %v", err)
	}
	// A closed socket makes Serve fail at once, as a broken listener would.
	if err := l.Close(); err != nil {
		t.Fatalf("Close() error = %v", err)
	}
	var ready atomic.Bool
	done := make(chan error, 1)
	go func() {
		done <- serve.Run(t.Context(), slog.New(slog.DiscardHandler), serve.Shutdown{DrainDelay: time.Hour, Timeout: time.Second}, &ready, l)
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "serve app") || !errors.Is(err, net.ErrClosed) {
			t.Errorf("Run with a closed listener = %v, want an error naming the app server and wrapping net.ErrClosed", err)
		}
	case <-time.After(waitLimit):
		t.Fatalf("Run with a closed listener did not return within %v (the drain delay must be skipped on failure)", waitLimit)
	}
	if ready.Load() {
		t.Errorf("ready after Run failed = true, want false")
	}
}

// TestListenLimitsHeaders: a request with more header than MaxHeaderBytes
// gets 431 instead of being read into memory.
func TestListenLimitsHeaders(t *testing.T) {
	t.Parallel()
	r := startRun(t, serve.Shutdown{Timeout: time.Second}, okHandler())
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+r.addr+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Big", strings.Repeat("x", 2*serve.MaxHeaderBytes))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET with a %d-byte header: %v", 2*serve.MaxHeaderBytes, err)
	}
	resp.Body.Close() //nolint:errcheck // nothing to read
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("GET with a %d-byte header = %d, want 431", 2*serve.MaxHeaderBytes, resp.StatusCode)
	}
}

// TestRunClosesKeepAliveWhileDraining: during the drain delay a keep-alive
// client's next answer says "Connection: close", so the client, not the
// server, closes the connection, and its following request opens a new one.
func TestRunClosesKeepAliveWhileDraining(t *testing.T) {
	t.Parallel()
	var ready atomic.Bool
	app, err := serve.Listen("app", "127.0.0.1:0", okHandler())
	if err != nil {
		t.Fatalf("Listen(app) error = %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- serve.Run(ctx, slog.New(slog.NewJSONHandler(io.Discard, nil)), serve.Shutdown{DrainDelay: 2 * time.Second, Timeout: waitLimit}, &ready, app)
	}()
	waitFor(t, "ready", ready.Load)

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	defer client.CloseIdleConnections()
	call := func() (closeHdr bool, reused bool) {
		t.Helper()
		trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused }}
		req, err := http.NewRequestWithContext(httptrace.WithClientTrace(t.Context(), trace), http.MethodGet, "http://"+app.Addr()+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET / : %v", err)
		}
		io.Copy(io.Discard, resp.Body) //nolint:errcheck // draining the body to reuse the connection
		resp.Body.Close()              //nolint:errcheck // read-only body
		return resp.Close, reused
	}
	if closeHdr, _ := call(); closeHdr {
		t.Errorf("while serving: the answer says Connection: close, want keep-alive")
	}
	if _, reused := call(); !reused {
		t.Errorf("while serving: the second call opened a new connection, want the kept-alive one")
	}
	cancel()
	waitFor(t, "the drain to start", func() bool { return !ready.Load() })
	if closeHdr, reused := call(); !closeHdr || !reused {
		t.Errorf("draining, on the kept-alive connection: Connection: close %v, reused %v; want both", closeHdr, reused)
	}
	if _, reused := call(); reused {
		t.Errorf("draining: the call after a Connection: close answer reused the connection, want a new one")
	}
	if err := <-done; err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
}
