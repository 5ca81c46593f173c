// Package probe calls a peer over HTTP and turns the outcome into a path
// result: who answered, how long it took and, when it failed, which kind of
// failure it was. The kinds follow Kubernetes' agnhost connect, so that the
// same words mean the same thing in the dashboard, `make check` and e2e.
package probe

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"syscall"
	"time"

	"github.com/podpaths/podpaths/platform/discovery"
	"github.com/podpaths/podpaths/platform/report"
)

// maxBody bounds how much of an answer is read; a path report of fifty
// backends is a few hundred KB.
const maxBody = 4 << 20

// DialFunc dials a network address, as net.Dialer.DialContext does.
type DialFunc func(ctx context.Context, network, address string) (net.Conn, error)

// ClientOptions shape the client NewClient returns.
type ClientOptions struct {
	// Timeout bounds dialing and the wait for the answer's headers; zero
	// leaves the bound to the caller's context.
	Timeout time.Duration
	// KeepAlive lets calls share connections. Off, every call opens its own
	// connection, and kube-proxy may send it to another pod.
	KeepAlive bool
	// Dial replaces the default net.Dialer: `make check`'s tests map node
	// addresses to loopback, and `probe get` picks its resolver and its
	// source port.
	Dial DialFunc
	// MaxConns, when set, caps the connections per host: a fixed pool, as
	// a load generator keeps.
	MaxConns int
}

// NewClient returns the HTTP client for calls to peers. It never follows a
// redirect (a peer's answer is reported as it is, and a redirect could point
// anywhere) and never uses a proxy from the environment: a probe must reach
// exactly the address it was given.
func NewClient(o ClientOptions) *http.Client {
	dial := o.Dial
	if dial == nil {
		dial = (&net.Dialer{Timeout: o.Timeout}).DialContext
	}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           dial,
		ResponseHeaderTimeout: o.Timeout,
		MaxConnsPerHost:       o.MaxConns,
		MaxIdleConnsPerHost:   cmp.Or(o.MaxConns, 16),
		IdleConnTimeout:       30 * time.Second,
		DisableKeepAlives:     !o.KeepAlive,
	}
	return &http.Client{
		Transport:     tr,
		Timeout:       o.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Prober makes bounded calls to peers.
type Prober struct {
	Client *http.Client
	// Timeout bounds each call; zero leaves the bound to the caller's
	// context.
	Timeout time.Duration
}

// Result is the outcome of one call.
type Result struct {
	Status  int
	Body    []byte
	Latency time.Duration
	Kind    report.ErrorKind
	Err     error
	// LocalAddr and RemoteAddr are the two ends (host:port) of the TCP
	// connection the call used, and Reused says it was kept alive from an
	// earlier call: together they show which calls shared a connection.
	LocalAddr, RemoteAddr string
	Reused                bool
	// Retried says the call needed a second connection: net/http sends an
	// idempotent request again when the server closed a kept-alive
	// connection under it before answering, as browsers do. The call may
	// still have worked; a client that does not retry would have lost it.
	Retried bool
	// RetryAfter is the wait a busy peer (429) asked for; see RetryBusy.
	RetryAfter time.Duration
	// Header is the answer's header, e.g. what a load balancer added.
	Header http.Header
}

// Get calls http://addr+path and reads the answer. host, when set, is sent as
// the Host header so the peer sees the name the caller looked up.
func (p *Prober) Get(ctx context.Context, addr, path, host string) Result {
	return p.GetURL(ctx, "http://"+addr+path, host)
}

// GetURL calls url and reads the answer, as Get does.
func (p *Prober) GetURL(ctx context.Context, url, host string) Result {
	if p.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.Timeout)
		defer cancel()
	}
	var res Result
	conns := 0
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		conns++
		res.LocalAddr = info.Conn.LocalAddr().String()
		res.RemoteAddr = info.Conn.RemoteAddr().String()
		res.Reused = info.Reused
		res.Retried = conns > 1
	}})
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		res.Kind, res.Err = report.ErrorOther, err
		return res
	}
	if host != "" {
		req.Host = host
	}
	start := time.Now()
	resp, err := p.Client.Do(req)
	if err != nil {
		res.Latency, res.Kind, res.Err = time.Since(start), Classify(err), err
		return res
	}
	defer resp.Body.Close() //nolint:errcheck // read-only body
	res.Body, err = io.ReadAll(io.LimitReader(resp.Body, maxBody))
	res.Status, res.Latency, res.Header = resp.StatusCode, time.Since(start), resp.Header
	if resp.StatusCode == http.StatusTooManyRequests {
		res.RetryAfter = retryAfter(resp.Header)
	}
	switch {
	case err != nil:
		res.Kind, res.Err = Classify(err), fmt.Errorf("read the answer of GET %s: %w", url, err)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		res.Kind, res.Err = report.ErrorHTTP, statusError(url, resp.Status, res.Body)
	}
	return res
}

// statusError says which status a call got and, when the body is one of our
// JSON errors, why: "status 502 Bad Gateway" alone hides the cause.
func statusError(url, status string, body []byte) error {
	var answer struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &answer) != nil || answer.Error == "" {
		return fmt.Errorf("GET %s: status %s", url, status)
	}
	return fmt.Errorf("GET %s: status %s: %s", url, status, answer.Error)
}

// Classify maps a call's error to an error kind. It is the one place that
// does: a reset means something answered and refused (for a Service, no
// ready endpoint: kube-proxy rejects), no answer in time means dropped or
// hanging, so the words mean the same in the dashboard, `make check` and e2e.
func Classify(err error) report.ErrorKind {
	var dnsErr *net.DNSError
	var netErr net.Error
	switch {
	case err == nil:
		return report.ErrorNone
	case errors.Is(err, discovery.ErrUnconfigured):
		return report.ErrorUnconfigured
	case errors.As(err, &dnsErr):
		// A name that did not resolve, whether the server said so or no
		// server answered: the call never got an address to try.
		return report.ErrorDNS
	case errors.Is(err, syscall.ECONNREFUSED):
		return report.ErrorRefused
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return report.ErrorTimeout
	default:
		return report.ErrorOther
	}
}

// FillOutcome completes path with the outcome of a call: status, latency and, when
// it failed, why. Who answered is the caller's to read from the body.
func (r Result) FillOutcome(path *report.Path) {
	path.Status = r.Status
	path.LatencyMS = float64(r.Latency.Microseconds()) / 1000
	path.ErrorKind = r.Kind
	path.OK = r.Kind == report.ErrorNone
	if r.Err != nil {
		path.Error = r.Err.Error()
	}
}

// Fill completes path with the result of a call: its outcome and, when the
// body is a whoami answer, which pod answered and the client IP it saw.
func Fill(path *report.Path, res Result) {
	res.FillOutcome(path)
	if res.Status == 0 {
		return
	}
	if who, err := report.DecodeWhoami(res.Body); err == nil {
		path.AnsweredBy = who.AnsweredBy()
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

// LookupFailed is base for a lookup that found nothing to call: it shows
// what was looked up (err's query, else base's own) and why it failed.
func LookupFailed(base report.Path, err error) report.Path {
	path := base
	path.Query = cmp.Or(discovery.QueryOf(err), base.Query)
	if path.Expected == "" {
		path.Expected = report.ExpectOK
	}
	Failed(&path, err)
	return path
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
// and the call's outcome.
func (p *Prober) Call(ctx context.Context, base report.Path, target discovery.Target, urlPath string) report.Path {
	path, _ := p.Fetch(ctx, base, target, urlPath)
	return path
}

// Fetch is Call that also returns the answer's body, for callers that read
// more than the answering pod from it.
func (p *Prober) Fetch(ctx context.Context, base report.Path, target discovery.Target, urlPath string) (report.Path, []byte) {
	path := base
	path.Query = target.Query
	path.Addresses = target.Found
	if path.Expected == "" {
		path.Expected = report.ExpectOK
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
