package matrix

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/kubernetes"

	"github.com/podpaths/podpaths/platform/probe"
	"github.com/podpaths/podpaths/platform/report"
)

// entry is a way into the frontend's nginx for the inside actions.
type entry interface {
	method() report.Method
	address() string
	get(ctx context.Context, pathQuery string) probe.Result
}

// httpEntry is an address outside the cluster that reaches nginx: a node's
// NodePort, the localhost mapping or the LoadBalancer address.
type httpEntry struct {
	prober *probe.Prober
	m      report.Method
	addr   string
}

func (e httpEntry) method() report.Method { return e.m }
func (e httpEntry) address() string       { return e.addr }

func (e httpEntry) get(ctx context.Context, pathQuery string) probe.Result {
	return e.prober.Get(ctx, e.addr, pathQuery, "")
}

// localIP is the address a call was made from: the client address a node
// that keeps it (externalTrafficPolicy Local) hands on to nginx.
func localIP(res probe.Result) string {
	host, _, err := net.SplitHostPort(res.LocalAddr)
	if err != nil {
		return ""
	}
	return host
}

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

func (e proxyEntry) method() report.Method { return report.MethodAPIProxy }
func (e proxyEntry) address() string {
	return fmt.Sprintf("services/%s/%s:%d", e.namespace, e.service, e.port)
}

func (e proxyEntry) get(ctx context.Context, pathQuery string) probe.Result {
	path, params := splitQuery(pathQuery)
	return proxyAnswer(ctx, func(ctx context.Context) ([]byte, error) {
		return e.client.CoreV1().Services(e.namespace).
			ProxyGet("http", e.service, strconv.Itoa(int(e.port)), path, params).DoRaw(ctx)
	})
}

// proxyAnswer runs one GET through the API server's proxy.
func proxyAnswer(ctx context.Context, get func(context.Context) ([]byte, error)) probe.Result {
	start := time.Now()
	body, err := get(ctx)
	res := probe.Result{Body: body, Status: http.StatusOK, Latency: time.Since(start)}
	if err != nil {
		res.Body, res.Status, res.Kind, res.Err = nil, 0, probe.Classify(err), err
		var status apierrors.APIStatus
		if errors.As(err, &status) {
			// The API server answered, so whatever failed behind it shows as
			// an HTTP status; its message names the cause.
			res.Status, res.Kind = int(status.Status().Code), report.ErrorHTTP
		}
	}
	return res
}
