package probe_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/podpaths/podpaths/platform/probe"
)

// busyServer answers 429 with retryAfter to the first busy calls, then 200.
func busyServer(t *testing.T, busy int32, retryAfter string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if calls.Add(1) <= busy {
			w.Header().Set("Retry-After", retryAfter)
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func TestRetryBusy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		busy       int32
		wantStatus int
		wantCalls  int32
	}{
		{name: "not busy", busy: 0, wantStatus: http.StatusOK, wantCalls: 1},
		{name: "busy twice", busy: 2, wantStatus: http.StatusOK, wantCalls: 3},
		{name: "always busy", busy: 100, wantStatus: http.StatusTooManyRequests, wantCalls: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, calls := busyServer(t, tt.busy, "0")
			p := newProber(okTimeout)
			res := probe.RetryBusy(t.Context(), func(ctx context.Context) probe.Result {
				return p.Get(ctx, addrOf(srv), "/", "")
			})
			if res.Status != tt.wantStatus || calls.Load() != tt.wantCalls {
				t.Errorf("RetryBusy = status %d after %d calls, want %d after %d", res.Status, calls.Load(), tt.wantStatus, tt.wantCalls)
			}
		})
	}
}

// TestRetryBusyStopsWithContext checks that a peer asking for a long wait
// cannot hold a caller whose context has ended.
func TestRetryBusyStopsWithContext(t *testing.T) {
	t.Parallel()
	srv, calls := busyServer(t, 100, "3600")
	p := newProber(okTimeout)
	ctx, cancel := context.WithCancel(t.Context())
	res := probe.RetryBusy(ctx, func(ctx context.Context) probe.Result {
		res := p.Get(ctx, addrOf(srv), "/", "")
		cancel()
		return res
	})
	if res.Status != http.StatusTooManyRequests || res.RetryAfter != time.Hour || calls.Load() != 1 {
		t.Errorf("RetryBusy after cancel = status %d retry-after %v after %d calls, want the first 429 (1h) only",
			res.Status, res.RetryAfter, calls.Load())
	}
}
