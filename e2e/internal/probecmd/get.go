package probecmd

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"time"

	"github.com/podpaths/podpaths/platform/discovery"
	"github.com/podpaths/podpaths/platform/probe"
	"github.com/podpaths/podpaths/platform/report"
)

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

// Get calls url o.Count times, one after another, on one client: with
// keep-alive the calls share a connection for as long as the server keeps
// it, without it each call opens a new one (and, through a Service, may
// reach another pod: kube-proxy balances connections, not requests). The
// calls are platform/probe's, the services' own prober, so a call's outcome
// means the same here as in the path report. The e2e suite also calls Get
// in its own process, for calls from this machine.
func Get(ctx context.Context, url string, o GetOptions) report.ProbeCalls {
	d := &net.Dialer{Timeout: o.Timeout, Resolver: discovery.NetResolver(o.DNSServer, o.Timeout)}
	if o.LocalPort != 0 {
		d.LocalAddr = &net.TCPAddr{Port: o.LocalPort}
	}
	client := probe.NewClient(probe.ClientOptions{Timeout: o.Timeout, KeepAlive: o.KeepAlive, Dial: d.DialContext})
	defer client.CloseIdleConnections()
	prober := &probe.Prober{Client: client, Timeout: o.Timeout}

	count := max(o.Count, 1)
	out := report.ProbeCalls{URL: url, Count: count, KeepAlive: o.KeepAlive, Timeout: o.Timeout.String()}
	for i := range count {
		c := callOf(prober.GetURL(ctx, url, ""))
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

// callOf records one call: its outcome, the connection it used and, when
// the answer is JSON, the answer and who gave it.
func callOf(res probe.Result) report.ProbeCall {
	c := report.ProbeCall{
		OK: res.Kind == report.ErrorNone, Status: res.Status, ErrorKind: res.Kind,
		LatencyMS: float64(res.Latency.Microseconds()) / 1000,
		LocalAddr: res.LocalAddr, RemoteAddr: res.RemoteAddr, Reused: res.Reused,
	}
	if res.Err != nil {
		c.Error = res.Err.Error()
	}
	body := bytes.TrimSpace(res.Body)
	if !json.Valid(body) {
		return c
	}
	c.Body = json.RawMessage(body)
	if w, err := report.DecodeWhoami(body); err == nil {
		c.AnsweredBy = w.AnsweredBy()
		c.Hostname, c.ClientIP, c.Forwarded = w.Hostname, w.ClientIP, w.Forwarded
	}
	return c
}
