package matrix

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/kubernetes"

	"github.com/podpaths/podpaths/platform/probe"
	"github.com/podpaths/podpaths/platform/report"
)

// maxBody caps what the matrix reads of an answer; a path report is a few KB.
const maxBody = 4 << 20

// answer is the outcome of one GET.
type answer struct {
	body    []byte
	status  int
	kind    report.ErrorKind
	err     error
	latency time.Duration
	// localIP is the address the call was made from, when known.
	localIP string
}

// fill copies an answer's outcome into a path.
func (a answer) fill(p *report.Path) {
	p.Status = a.status
	p.LatencyMS = float64(a.latency.Microseconds()) / 1000
	p.ErrorKind = a.kind
	p.OK = a.kind == report.ErrorNone
	if a.err != nil {
		p.Error = a.err.Error()
	}
}

// entry is a way into the frontend's nginx for the inside actions.
type entry interface {
	method() report.Method
	address() string
	get(ctx context.Context, pathQuery string) answer
}

// httpEntry is an address outside the cluster that reaches nginx: a node's
// NodePort, the localhost mapping or the LoadBalancer address.
type httpEntry struct {
	client *http.Client
	m      report.Method
	addr   string
}

func (e httpEntry) method() report.Method { return e.m }
func (e httpEntry) address() string       { return e.addr }

func (e httpEntry) get(ctx context.Context, pathQuery string) answer {
	start := time.Now()
	a := e.do(ctx, "http://"+e.addr+pathQuery)
	a.latency = time.Since(start)
	return a
}

func (e httpEntry) do(ctx context.Context, url string) answer {
	// The connection's own end is the client address a node that keeps it
	// (externalTrafficPolicy Local) hands on to nginx.
	var local string
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		if host, _, err := net.SplitHostPort(info.Conn.LocalAddr().String()); err == nil {
			local = host
		}
	}})
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return answer{kind: report.ErrorOther, err: err}
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return answer{kind: classify(err), err: err}
	}
	defer resp.Body.Close() //nolint:errcheck // read-only body
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return answer{status: resp.StatusCode, kind: classify(err), err: fmt.Errorf("read %s: %w", url, err), localIP: local}
	}
	a := answer{body: body, status: resp.StatusCode, localIP: local}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		a.kind = report.ErrorHTTP
		a.err = fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return a
}

// classify maps a call's error to an error kind with the same function the
// services use, so that "refused" or "timeout" mean the same thing in the
// dashboard, `make check` and e2e: a reset means something answered and
// refused (for a Service: no ready endpoint, kube-proxy rejects), no answer
// in time means dropped or hanging.
func classify(err error) report.ErrorKind { return probe.Classify(err) }

// proxyEntry reaches nginx through the API server's service proxy
// (/api/v1/namespaces/NS/services/http:NAME:PORT/proxy/...). It needs only the
// kubeconfig, so it works wherever kubectl does, but it proves less: the API
// server dials a pod directly, so kube-proxy, NodePorts and LoadBalancers are
// not on the path.
type proxyEntry struct {
	client    kubernetes.Interface
	namespace string
	service   string
	port      int32
}

func (e proxyEntry) method() report.Method { return MethodAPIProxy }
func (e proxyEntry) address() string {
	return fmt.Sprintf("services/%s/%s:%d", e.namespace, e.service, e.port)
}

func (e proxyEntry) get(ctx context.Context, pathQuery string) answer {
	path, params := splitQuery(pathQuery)
	return proxyAnswer(ctx, func(ctx context.Context) ([]byte, error) {
		return e.client.CoreV1().Services(e.namespace).
			ProxyGet("http", e.service, strconv.Itoa(int(e.port)), path, params).DoRaw(ctx)
	})
}

// proxyAnswer runs one GET through the API server's proxy.
func proxyAnswer(ctx context.Context, get func(context.Context) ([]byte, error)) answer {
	start := time.Now()
	body, err := get(ctx)
	a := answer{body: body, status: http.StatusOK, latency: time.Since(start)}
	if err != nil {
		a.body, a.status, a.kind, a.err = nil, 0, classify(err), err
		var status apierrors.APIStatus
		if errors.As(err, &status) {
			// The API server answered, so whatever failed behind it shows as
			// an HTTP status; its message names the cause.
			a.status, a.kind = int(status.Status().Code), report.ErrorHTTP
		}
	}
	return a
}
