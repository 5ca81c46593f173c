package probe_test

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"

	"github.com/podpaths/podpaths/platform/discovery"
	"github.com/podpaths/podpaths/platform/probe"
	"github.com/podpaths/podpaths/platform/report"
)

func TestFillIgnoresBodiesThatAreNotWhoami(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		res  probe.Result
	}{
		{name: "plain text", res: probe.Result{Status: 200, Body: []byte("hello")}},
		{name: "JSON without pod", res: probe.Result{Status: 200, Body: []byte(`{"service":"nginx"}`)}},
		{name: "no status means no answer", res: probe.Result{Kind: report.ErrorRefused, Err: errors.New("refused"),
			Body: []byte(`{"pod":"ghost"}`)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var p report.Path
			probe.Fill(&p, tt.res)
			if p.AnsweredBy != nil || p.ClientIPSeen != "" {
				t.Errorf("Fill(%s) answered_by = %+v client_ip_seen %q, want neither", tt.name, p.AnsweredBy, p.ClientIPSeen)
			}
		})
	}
}

func TestLookupFailed(t *testing.T) {
	t.Parallel()
	query := "BACKEND_SERVICE_HOST, BACKEND_SERVICE_PORT"
	tests := []struct {
		name      string
		lookupErr error
		wantKind  report.ErrorKind
	}{
		{name: "unconfigured", lookupErr: &discovery.LookupError{Query: query,
			Err: fmt.Errorf("env: %w: BACKEND_SERVICE_HOST is not set", discovery.ErrUnconfigured)},
			wantKind: report.ErrorUnconfigured},
		{name: "dns", lookupErr: &discovery.LookupError{Query: query,
			Err: fmt.Errorf("lookup backend: %w", &net.DNSError{Err: "no such host", Name: "backend", IsNotFound: true})},
			wantKind: report.ErrorDNS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			base := report.Path{ID: "frontend-backend-env", From: "frontend", To: "backend", Method: report.MethodEnv}
			p := probe.LookupFailed(base, tt.lookupErr)
			if p.OK || p.ErrorKind != tt.wantKind || p.Error != tt.lookupErr.Error() {
				t.Errorf("LookupFailed(%v) = ok %v kind %q error %q, want failed, kind %q, the lookup error",
					tt.lookupErr, p.OK, p.ErrorKind, p.Error, tt.wantKind)
			}
			if p.Query != query || len(p.Addresses) != 0 || p.Expected != report.ExpectOK {
				t.Errorf("LookupFailed = query %q addresses %v expected %q, want the lookup's query, no addresses, expected ok",
					p.Query, p.Addresses, p.Expected)
			}
			if p.ID != base.ID || p.From != base.From || p.Method != base.Method {
				t.Errorf("LookupFailed lost the base path: %+v", p)
			}
		})
	}
}

func TestCallSuccess(t *testing.T) {
	t.Parallel()
	srv, _ := whoamiServer(t)
	tests := []struct {
		name         string
		expected     report.Expectation
		wantExpected report.Expectation
		wantOutcome  report.Outcome
	}{
		{name: "no expectation means ok", expected: "", wantExpected: report.ExpectOK, wantOutcome: report.OutcomePass},
		{name: "expected fail is kept", expected: report.ExpectFail, wantExpected: report.ExpectFail, wantOutcome: report.OutcomeFail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			base := report.Path{ID: "frontend-backend-dns", From: "frontend", To: "backend", Method: report.MethodDNS, Expected: tt.expected}
			target := discovery.Target{Query: "backend.podpaths.svc.cluster.local", Addr: addrOf(srv), Found: []string{"127.0.0.1"}}
			p := newProber(okTimeout).Call(t.Context(), base, target, "/whoami")
			if !p.OK || p.Status != 200 || p.AnsweredBy == nil || p.AnsweredBy.Pod != "backend-1" {
				t.Errorf("Call(whoami) = ok %v status %d answered_by %+v, want ok 200 backend-1 (error %q)", p.OK, p.Status, p.AnsweredBy, p.Error)
			}
			if p.Query != target.Query || p.Expected != tt.wantExpected || p.Outcome() != tt.wantOutcome {
				t.Errorf("Call(whoami, expected %q) = query %q expected %q outcome %q, want %q %q %q",
					tt.expected, p.Query, p.Expected, p.Outcome(), target.Query, tt.wantExpected, tt.wantOutcome)
			}
		})
	}
}

func TestFetchReturnsBody(t *testing.T) {
	t.Parallel()
	body := `{"pod":"backend-0","peers":["backend-1"]}`
	srv := statusServer(t, http.StatusOK, body)
	p, got := newProber(okTimeout).Fetch(t.Context(), report.Path{ID: "x"}, discovery.Target{Addr: addrOf(srv)}, "/api/peers")
	if string(got) != body || !p.OK {
		t.Errorf("Fetch(/api/peers) = ok %v body %q, want ok and %q", p.OK, got, body)
	}
}
