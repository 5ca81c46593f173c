package load

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/podpaths/podpaths/platform/probe"
)

const timeout = 5 * time.Second

// waitRequests runs until the target has at least n requests.
func waitRequests(t *testing.T, r *Run, name string, n int) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for r.Snapshot()[name].Requests < n {
		select {
		case <-deadline:
			t.Fatalf("%s: fewer than %d requests in 10s: %+v", name, n, r.Snapshot()[name])
		case <-tick.C:
		}
	}
}

func TestKeepAliveUsesAFixedPool(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "ok") //nolint:errcheck // test handler
	}))
	t.Cleanup(srv.Close)
	for _, keepAlive := range []bool{true, false} {
		r := Start(t.Context(), []Target{{Name: "t", URL: srv.URL, Conns: 2, Every: time.Millisecond}}, keepAlive, timeout)
		waitRequests(t, r, "t", 40)
		c := r.Stop()["t"]
		switch {
		case c.Failed != 0 || c.Retried != 0:
			t.Errorf("keepAlive=%v: %+v, want no failed or retried request", keepAlive, c)
		case keepAlive && c.Conns != 2:
			t.Errorf("keep-alive with a pool of 2: %d requests used %d connections, want 2", c.Requests, c.Conns)
		case !keepAlive && c.Conns != c.Requests:
			t.Errorf("without keep-alive: %d requests used %d connections, want one each", c.Requests, c.Conns)
		}
	}
}

func TestCountsFailuresAndChecks(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		switch n.Add(1) % 4 {
		case 0:
			http.Error(w, "overloaded", http.StatusServiceUnavailable)
		case 1:
			fmt.Fprint(w, "wrong") //nolint:errcheck // test handler
		default:
			fmt.Fprint(w, "right") //nolint:errcheck // test handler
		}
	}))
	t.Cleanup(srv.Close)
	check := func(res probe.Result) error {
		if string(res.Body) != "right" {
			return errors.New("not right")
		}
		return nil
	}
	r := Start(t.Context(), []Target{{Name: "t", URL: srv.URL, Conns: 1, Every: time.Millisecond, Check: check}}, true, timeout)
	waitRequests(t, r, "t", 40)
	c := r.Stop()["t"]
	// Every fourth answer is a 503 and every fourth a wrong 2xx.
	if c.Failed < c.Requests/2-1 || c.Failed > c.Requests/2+1 || len(c.Failures) == 0 ||
		!strings.Contains(strings.Join(c.Failures, "\n"), "503") || !strings.Contains(strings.Join(c.Failures, "\n"), "not right") {
		t.Errorf("%d requests, %d failed: %q; want about half, with both a 503 and a failed check", c.Requests, c.Failed, c.Failures)
	}
}

// TestCountsRetries: a server that closes kept-alive connections under the
// client's next request makes net/http retry; every such request counts.
func TestCountsRetries(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "ok") //nolint:errcheck // test handler
	}))
	var active atomic.Int32
	srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		// The third request of every second connection meets a close.
		if s == http.StateActive && active.Add(1)%6 == 0 {
			c.Close() //nolint:errcheck // the point of the test
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	r := Start(t.Context(), []Target{{Name: "t", URL: srv.URL, Conns: 1, Every: time.Millisecond}}, true, timeout)
	waitRequests(t, r, "t", 30)
	c := r.Stop()["t"]
	if c.Retried == 0 || c.Failed != 0 || !strings.Contains(strings.Join(c.Failures, "\n"), "retry") {
		t.Errorf("%+v, want retried requests counted and described, none failed", c)
	}
	if tot := Total(map[string]Counts{"a": c, "b": c}); tot.Requests != 2*c.Requests || tot.Retried != 2*c.Retried {
		t.Errorf("Total of two = %+v, want twice %+v", tot, c)
	}
}
