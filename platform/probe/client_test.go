package probe_test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/podpaths/podpaths/platform/probe"
	"github.com/podpaths/podpaths/platform/report"
)

// TestNewClientKeepAlive checks the knob behind /api/spread?keepalive: with
// keep-alive, calls reuse one connection, so kube-proxy, which balances per
// connection, sends them all to one pod.
func TestNewClientKeepAlive(t *testing.T) {
	t.Parallel()
	tests := []struct {
		keepAlive bool
		wantConns int
	}{
		{keepAlive: true, wantConns: 1},
		{keepAlive: false, wantConns: 3},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("keepalive=%v", tt.keepAlive), func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			remotes := make(map[string]bool)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				remotes[r.RemoteAddr] = true
				mu.Unlock()
				fmt.Fprint(w, "ok") //nolint:errcheck // test handler
			}))
			t.Cleanup(srv.Close)
			client := probe.NewClient(probe.ClientOptions{Timeout: okTimeout, KeepAlive: tt.keepAlive})
			t.Cleanup(client.CloseIdleConnections)
			p := &probe.Prober{Client: client, Timeout: okTimeout}
			locals := make(map[string]bool)
			for i := range 3 {
				res := p.Get(t.Context(), addrOf(srv), "/", "")
				if res.Err != nil {
					t.Fatalf("Get error = %v", res.Err)
				}
				// The result names the connection the server saw.
				if !remotesHave(&mu, remotes, res.LocalAddr) || res.RemoteAddr != addrOf(srv) {
					t.Errorf("call %d: local %q remote %q, want the connection the server saw and %s", i+1, res.LocalAddr, res.RemoteAddr, addrOf(srv))
				}
				if wantReused := tt.keepAlive && i > 0; res.Reused != wantReused {
					t.Errorf("call %d with keepAlive=%v: reused = %v, want %v", i+1, tt.keepAlive, res.Reused, wantReused)
				}
				locals[res.LocalAddr] = true
			}
			if len(locals) != tt.wantConns {
				t.Errorf("NewClient(keepAlive=%v): results name %d local addresses, want %d", tt.keepAlive, len(locals), tt.wantConns)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(remotes) != tt.wantConns {
				t.Errorf("NewClient(keepAlive=%v): 3 sequential calls used %d connections, want %d", tt.keepAlive, len(remotes), tt.wantConns)
			}
		})
	}
}

// remotesHave reports whether the server saw a connection from addr.
func remotesHave(mu *sync.Mutex, remotes map[string]bool, addr string) bool {
	mu.Lock()
	defer mu.Unlock()
	return remotes[addr]
}

// TestNewClientDoesNotFollowRedirects: a redirect is reported as the peer's
// answer; following it could lead anywhere.
func TestNewClientDoesNotFollowRedirects(t *testing.T) {
	t.Parallel()
	var followed atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/elsewhere" {
			followed.Add(1)
			return
		}
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	res := newProber(okTimeout).Get(t.Context(), addrOf(srv), "/whoami", "")
	if res.Status != http.StatusFound || res.Kind != report.ErrorHTTP || followed.Load() != 0 {
		t.Errorf("Get(redirect) = status %d kind %q, followed %d times, want 302, http, never followed", res.Status, res.Kind, followed.Load())
	}
}

// TestGetRecordsARetry: a server that closes a kept-alive connection just as
// the next request arrives makes net/http send that GET again on a new
// connection; the result says so.
func TestGetRecordsARetry(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "ok") //nolint:errcheck // test handler
	}))
	// The second request on a connection is met by a close before any
	// answer, as a server that shuts idle connections down would.
	srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateActive && calls.Add(1) == 2 {
			c.Close() //nolint:errcheck // the point of the test
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	client := probe.NewClient(probe.ClientOptions{Timeout: okTimeout, KeepAlive: true})
	t.Cleanup(client.CloseIdleConnections)
	p := &probe.Prober{Client: client, Timeout: okTimeout}
	if first := p.Get(t.Context(), addrOf(srv), "/", ""); first.Err != nil || first.Retried {
		t.Fatalf("first call = %v, retried %v, want ok on a new connection", first.Err, first.Retried)
	}
	second := p.Get(t.Context(), addrOf(srv), "/", "")
	if second.Err != nil || !second.Retried || second.Reused {
		t.Errorf("call after the server closed its kept-alive connection = err %v retried %v reused %v, want ok after a retry on a new connection",
			second.Err, second.Retried, second.Reused)
	}
}
