package serve_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/podpaths/podpaths/platform/serve"
)

// Helpers that run a server in a test and watch it start, serve and stop.

// waitLimit bounds every wait on a condition. It is generous: it only fails
// a test that is stuck, it never paces one.
const waitLimit = 10 * time.Second

// waitFor polls cond until it holds or waitLimit passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", waitLimit, what)
		}
		<-tick.C
	}
}

// syncBuffer is a log sink that Run's goroutine and the test can share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// running is a Run call in progress.
type running struct {
	addr   string
	ready  *atomic.Bool
	logs   *syncBuffer
	cancel context.CancelFunc
	done   chan struct{} // closed when Run returned
	err    error         // Run's error, set before done is closed
}

// startRun listens on a loopback port and runs h until the test ends.
func startRun(t *testing.T, sd serve.Shutdown, h http.Handler) *running {
	t.Helper()
	l, err := serve.Listen("app", "127.0.0.1:0", h)
	if err != nil {
		t.Fatalf("Listen(app, 127.0.0.1:0) error = %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	r := &running{addr: l.Addr(), ready: new(atomic.Bool), logs: new(syncBuffer), cancel: cancel, done: make(chan struct{})}
	logger := slog.New(slog.NewJSONHandler(r.logs, nil))
	go func() {
		r.err = serve.Run(ctx, logger, sd, r.ready, l)
		close(r.done)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(waitLimit):
			t.Errorf("Run did not return within %v of cancel", waitLimit)
		}
	})
	return r
}

// wait returns Run's error, failing the test if Run does not return in time.
func (r *running) wait(t *testing.T) error {
	t.Helper()
	select {
	case <-r.done:
		return r.err
	case <-time.After(waitLimit):
		t.Fatalf("Run did not return within %v", waitLimit)
		return nil
	}
}

// returned reports whether Run has returned, without waiting.
func (r *running) returned() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// get makes a request on a fresh connection and returns status and body.
func get(ctx context.Context, url string) (int, string, error) {
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: waitLimit}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close() //nolint:errcheck // read-only body
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// refuses reports whether nothing accepts connections on addr any more.
func refuses(ctx context.Context, addr string) bool {
	c, err := (&net.Dialer{Timeout: time.Second}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return true
	}
	c.Close() //nolint:errcheck // probe connection
	return false
}

func okHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "hello") }) //nolint:errcheck // test handler
}
