package probe_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/podpaths/podpaths/platform/probe"
)

func TestHealthcheck(t *testing.T) {
	t.Parallel()
	noContent := statusServer(t, http.StatusNoContent, "")
	failing := statusServer(t, http.StatusInternalServerError, "down")
	tests := []struct {
		name    string
		url     string
		wantErr string // empty means success
	}{
		{name: "2xx", url: noContent.URL + "/healthz"},
		{name: "5xx", url: failing.URL + "/healthz", wantErr: "status 500"},
		{name: "unreachable", url: "http://" + freeAddr(t) + "/healthz", wantErr: "connection refused"},
		{name: "bad url", url: "http://127.0.0.1:80\x7f/", wantErr: "healthcheck"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := probe.Healthcheck(t.Context(), tt.url, okTimeout)
			if tt.wantErr == "" {
				if err != nil {
					t.Errorf("Healthcheck(%q) = %v, want nil", tt.url, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Healthcheck(%q) = %v, want an error containing %q", tt.url, err, tt.wantErr)
			}
		})
	}
}

func TestHealthcheckTimeout(t *testing.T) {
	t.Parallel()
	url := "http://" + hangingAddr(t) + "/healthz"
	start := time.Now()
	err := probe.Healthcheck(t.Context(), url, callTimeout)
	if took := time.Since(start); took > callTimeout+boundSlack {
		t.Errorf("Healthcheck(hanging peer, %v) took %v, want at most %v", callTimeout, took, callTimeout+boundSlack)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Healthcheck(hanging peer) = %v, want a deadline error", err)
	}
}

func TestHealthcheckMain(t *testing.T) {
	t.Parallel()
	ok := statusServer(t, http.StatusOK, "ok")
	unavailable := statusServer(t, http.StatusServiceUnavailable, "no")
	tests := []struct {
		name        string
		args        []string
		wantCode    int
		wantHandled bool
		wantStderr  string
	}{
		{name: "no arguments", args: []string{"backend"}},
		{name: "other command", args: []string{"backend", "serve", ok.URL}},
		{name: "too many arguments", args: []string{"backend", "healthcheck", ok.URL, "extra"}, wantCode: 2, wantHandled: true, wantStderr: "usage: backend healthcheck URL"},
		{name: "no url", args: []string{"backend", "healthcheck"}, wantCode: 2, wantHandled: true, wantStderr: "usage: backend healthcheck URL"},
		{name: "healthy", args: []string{"backend", "healthcheck", ok.URL}, wantHandled: true},
		{name: "unhealthy", args: []string{"backend", "healthcheck", unavailable.URL}, wantCode: 1, wantHandled: true, wantStderr: "status 503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stderr bytes.Buffer
			code, handled := probe.HealthcheckMain(tt.args, &stderr)
			if code != tt.wantCode || handled != tt.wantHandled {
				t.Errorf("HealthcheckMain(%q) = %d, %v, want %d, %v", tt.args, code, handled, tt.wantCode, tt.wantHandled)
			}
			if tt.wantStderr == "" && stderr.Len() != 0 || !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("HealthcheckMain(%q) stderr = %q, want %q", tt.args, stderr.String(), tt.wantStderr)
			}
		})
	}
}
