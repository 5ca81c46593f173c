// Package probe calls a peer over HTTP and turns the outcome into a path
// result: who answered, how long it took and, when it failed, which kind of
// failure it was. The kinds follow Kubernetes' agnhost connect, so that the
// same words mean the same thing in the dashboard, `make check` and e2e.
package probe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/podpaths/podpaths/platform/discovery"
	"github.com/podpaths/podpaths/platform/identity"
	"github.com/podpaths/podpaths/platform/report"
)

// maxBody bounds how much of a peer's answer is read.
const maxBody = 1 << 20

// NewClient returns the HTTP client for calls to peers. Every call also gets
// a per-call timeout from the Prober; the client's own timeouts bound the
// dial and the headers in case a caller forgets.
func NewClient(timeout time.Duration, keepAlive bool) *http.Client {
	tr := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: timeout}).DialContext,
		ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       30 * time.Second,
		DisableKeepAlives:     !keepAlive,
	}
	return &http.Client{Transport: tr, Timeout: timeout}
}

// Prober makes bounded calls to peers.
type Prober struct {
	Client  *http.Client
	Timeout time.Duration
}

// Result is the outcome of one call.
type Result struct {
	Status  int
	Body    []byte
	Latency time.Duration
	Kind    report.ErrorKind
	Err     error
}

// Get calls http://addr+path and reads the answer. host, when set, is sent as
// the Host header so the peer sees the name the caller looked up.
func (p *Prober) Get(ctx context.Context, addr, path, host string) Result {
	ctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		return Result{Kind: report.ErrorOther, Err: err}
	}
	if host != "" {
		req.Host = host
	}
	start := time.Now()
	resp, err := p.Client.Do(req)
	if err != nil {
		return Result{Latency: time.Since(start), Kind: Classify(err), Err: err}
	}
	defer resp.Body.Close() //nolint:errcheck // read-only body
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	res := Result{Status: resp.StatusCode, Body: body, Latency: time.Since(start)}
	switch {
	case err != nil:
		res.Kind, res.Err = Classify(err), err
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		res.Kind, res.Err = report.ErrorHTTP, fmt.Errorf("GET %s: status %d", path, resp.StatusCode)
	}
	return res
}

// Classify maps a call's error to an error kind.
func Classify(err error) report.ErrorKind {
	var dnsErr *net.DNSError
	var netErr net.Error
	switch {
	case err == nil:
		return report.ErrorNone
	case errors.Is(err, discovery.ErrUnconfigured):
		return report.ErrorUnconfigured
	case errors.As(err, &dnsErr) && !dnsErr.IsTimeout:
		return report.ErrorDNS
	case errors.Is(err, syscall.ECONNREFUSED):
		return report.ErrorRefused
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return report.ErrorTimeout
	default:
		return report.ErrorOther
	}
}

// Fill completes path with the result of a call: status, latency, error and,
// when the body is a whoami answer, which pod answered and the client IP it saw.
func Fill(path *report.Path, res Result) {
	path.Status = res.Status
	path.LatencyMS = float64(res.Latency.Microseconds()) / 1000
	path.ErrorKind = res.Kind
	path.OK = res.Kind == report.ErrorNone
	if res.Err != nil {
		path.Error = res.Err.Error()
	}
	var who identity.Whoami
	if res.Status != 0 && json.Unmarshal(res.Body, &who) == nil && who.Pod != "" {
		path.AnsweredBy = &report.Pod{Pod: who.Pod, PodIP: who.PodIP, Node: who.Node}
		path.ToNode = who.Node
		path.ClientIPSeen = who.ClientIP
	}
}

// Failed completes path for a call that could not even be made, e.g. a lookup
// that failed or a method that is not configured.
func Failed(path *report.Path, err error) {
	path.OK = false
	path.ErrorKind = Classify(err)
	path.Error = err.Error()
}

// Healthcheck GETs url and fails unless it answers 2xx in time. Images built
// FROM scratch have no shell or curl, so each binary checks itself for
// docker compose healthchecks.
func Healthcheck(ctx context.Context, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("healthcheck %s: %w", url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck %s: %w", url, err)
	}
	defer resp.Body.Close() //nolint:errcheck // read-only body
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("healthcheck %s: status %d", url, resp.StatusCode)
	}
	return nil
}

// Call calls target at urlPath and returns base completed with the lookup
// and the call's outcome. lookupErr is the error of the lookup that produced
// target, if any; then no call is made.
func (p *Prober) Call(ctx context.Context, base report.Path, target discovery.Target, lookupErr error, urlPath string) report.Path {
	path, _ := p.Fetch(ctx, base, target, lookupErr, urlPath)
	return path
}

// Fetch is Call that also returns the answer's body, for callers that read
// more than the answering pod from it.
func (p *Prober) Fetch(ctx context.Context, base report.Path, target discovery.Target, lookupErr error, urlPath string) (report.Path, []byte) {
	path := base
	path.Query = target.Query
	path.Addresses = target.Found
	if path.Expected == "" {
		path.Expected = report.ExpectOK
	}
	if lookupErr != nil {
		Failed(&path, lookupErr)
		return path, nil
	}
	res := p.Get(ctx, target.Addr, urlPath, target.Name)
	Fill(&path, res)
	return path, res.Body
}

// HealthcheckMain handles `<binary> healthcheck URL`, the command docker
// compose runs as a healthcheck. It reports whether args asked for it and,
// if so, the exit code main should use.
func HealthcheckMain(args []string, stderr io.Writer) (code int, handled bool) {
	if len(args) < 2 || args[1] != "healthcheck" {
		return 0, false
	}
	if len(args) != 3 {
		fmt.Fprintf(stderr, "usage: %s healthcheck URL\n", args[0]) //nolint:errcheck // nowhere else to report
		return 2, true
	}
	if err := Healthcheck(context.Background(), args[2], 2*time.Second); err != nil {
		fmt.Fprintln(stderr, err) //nolint:errcheck // nowhere else to report
		return 1, true
	}
	return 0, true
}
