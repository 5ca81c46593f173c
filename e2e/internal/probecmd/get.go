package probecmd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"time"

	"github.com/podpaths/podpaths/platform/identity"
	"github.com/podpaths/podpaths/platform/probe"
	"github.com/podpaths/podpaths/platform/report"
)

// maxBody bounds what is read of an answer; a path report is a few KB.
const maxBody = 1 << 20

// GetOptions are the flags of `probe get`.
type GetOptions struct {
	// Count is the number of calls, at least 1.
	Count int
	// KeepAlive lets the calls share a connection.
	KeepAlive bool
	// Timeout bounds each call.
	Timeout time.Duration
	// DNSServer, host:port, replaces the system resolver when set.
	DNSServer string
	// LocalPort, when set, is the source port of the connection: a client
	// that reuses a port meets whatever conntrack still remembers of it.
	LocalPort int
}

// getter makes the calls of `probe get`.
type getter struct {
	timeout   time.Duration
	keepAlive bool
	resolver  *net.Resolver
	localAddr net.Addr
}

// Get calls url o.Count times, one after another, on one client: with
// keep-alive the calls share a connection for as long as the server keeps
// it, without it each call opens a new one (and, through a Service, may
// reach another pod: kube-proxy balances connections, not requests). The e2e
// suite also calls it in its own process, for calls from this machine.
func Get(ctx context.Context, url string, o GetOptions) GetOutput {
	g := getter{timeout: o.Timeout, keepAlive: o.KeepAlive, resolver: newResolver(o.DNSServer, o.Timeout)}
	if o.LocalPort != 0 {
		g.localAddr = &net.TCPAddr{Port: o.LocalPort}
	}
	return g.get(ctx, url, max(o.Count, 1))
}

func (g getter) get(ctx context.Context, url string, count int) GetOutput {
	tr := &http.Transport{
		// Never a proxy from the environment: the probe must reach exactly
		// the address it was given.
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: g.timeout, Resolver: g.resolver, LocalAddr: g.localAddr}).DialContext,
		DisableKeepAlives:   !g.keepAlive,
		MaxIdleConnsPerHost: 1,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport: tr,
		// A redirect could point anywhere; report it instead of following.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	out := GetOutput{URL: url, Count: count, KeepAlive: g.keepAlive, Timeout: g.timeout.String()}
	for i := range count {
		c := g.call(ctx, client, url)
		c.Seq = i + 1
		out.Calls = append(out.Calls, c)
		if c.OK {
			out.OK++
			continue
		}
		out.Failed++
		if out.ErrorKinds == nil {
			out.ErrorKinds = map[report.ErrorKind]int{}
		}
		out.ErrorKinds[c.ErrorKind]++
	}
	return out
}

// call makes one request and records which connection it used.
func (g getter) call(ctx context.Context, client *http.Client, url string) Call {
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	var c Call
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		c.LocalAddr = info.Conn.LocalAddr().String()
		c.RemoteAddr = info.Conn.RemoteAddr().String()
		c.Reused = info.Reused
	}}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodGet, url, nil)
	if err != nil {
		c.ErrorKind, c.Error = report.ErrorOther, err.Error()
		return c
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		c.LatencyMS = millis(time.Since(start))
		c.ErrorKind, c.Error = probe.Classify(err), err.Error()
		return c
	}
	defer resp.Body.Close() //nolint:errcheck // read-only body
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	c.LatencyMS = millis(time.Since(start))
	c.Status = resp.StatusCode
	switch {
	case err != nil:
		c.ErrorKind, c.Error = probe.Classify(err), fmt.Sprintf("read answer: %v", err)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		c.ErrorKind, c.Error = report.ErrorHTTP, "status "+resp.Status
	default:
		c.OK = true
	}
	fillAnswer(&c, body)
	return c
}

// fillAnswer keeps a JSON answer and, when it is a whoami, who answered and
// what it saw of the caller.
func fillAnswer(c *Call, body []byte) {
	body = bytes.TrimSpace(body)
	if !json.Valid(body) {
		return
	}
	c.Body = json.RawMessage(body)
	var w identity.Whoami
	if json.Unmarshal(body, &w) != nil || w.Pod == "" {
		return
	}
	c.AnsweredBy = &report.Pod{Pod: w.Pod, PodIP: w.PodIP, Node: w.Node}
	c.Hostname = w.Hostname
	c.ClientIP = w.ClientIP
	c.Forwarded = w.Forwarded
}

func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
