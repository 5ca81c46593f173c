package matrix

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	restclient "k8s.io/client-go/rest"
	k8stesting "k8s.io/client-go/testing"

	"github.com/podpaths/podpaths/platform/probe"
)

// The fake cluster: three kind nodes whose InternalIPs are never dialled.
// The test dialer maps each node's NodePort and the LoadBalancer address to a
// loopback server; any other address is an error, never a connection.
const (
	nsName     = "podpaths"
	cpNode     = "podpaths-control-plane"
	workerNode = "podpaths-worker"
	worker2    = "podpaths-worker2"
	lbIP       = "172.18.0.200"
	backendIP  = "10.96.0.80"
	// externalLB is the load balancer in front of the NodePorts.
	externalLB = "172.31.0.2:8080"
)

var nodeIPs = map[string]string{cpNode: "172.18.0.2", workerNode: "172.18.0.3", worker2: "172.18.0.4"}

func nodeAddr(node string) string { return nodeIPs[node] + ":30080" }

const lbAddr = lbIP + ":80"

// frontend stands in for nginx in a frontend pod: it answers every path the
// matrix calls. Handlers can be replaced per test.
type frontend struct {
	mu       sync.Mutex
	handlers map[string]http.HandlerFunc
}

func newFrontend() *frontend {
	f := &frontend{handlers: map[string]http.HandlerFunc{
		pathWhoami:   jsonHandler(frontendIdentity()),
		pathPaths:    jsonHandler(frontendReport()),
		pathSpread:   spreadHandler(map[string]int{"backend-0": 7, "backend-1": 6, "backend-2": 7}, 0),
		pathMyPeers:  jsonHandler(peersReport()),
		pathMyWhoami: jsonHandler(backendIdentity()),
	}}
	return f
}

func (f *frontend) set(path string, h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.handlers[path] = h
}

func (f *frontend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	h, ok := f.handlers[r.URL.Path]
	f.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	h(w, r)
}

// newFixture returns a healthy lab: every entry reaches the frontend stand-in.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	front := newFrontend()
	srv := httptest.NewServer(front)
	t.Cleanup(srv.Close)
	loop := srv.Listener.Addr().String()
	f := &fixture{t: t, front: front, server: srv, routes: map[string]string{loop: loop, lbAddr: loop}, outside: map[string]string{}}
	for n := range nodeIPs {
		f.routes[nodeAddr(n)] = loop
		f.objects = append(f.objects, nodeObject(n))
	}
	f.objects = append(f.objects,
		service("frontend-nodeport", corev1.ServiceTypeNodePort, 80, 30080, ""),
		service("frontend", corev1.ServiceTypeLoadBalancer, 80, 31234, lbIP),
		clusterIPService("backend", backendIP, 8080),
		endpointSlice("frontend-nodeport", map[string]string{"10.244.1.5": workerNode, "10.244.2.6": worker2}),
		endpointSlice("backend", map[string]string{"10.244.2.5": worker2, "10.244.1.6": workerNode, "10.244.0.7": cpNode}),
	)
	f.routes[externalLB] = startExternalLB(t, slices.Sorted(maps.Keys(nodeIPs)), front)
	cfg := DefaultConfig()
	cfg.ExternalLB = externalLB
	cfg.Localhost = Localhost{Address: loop, Node: cpNode}
	cfg.OutsideTimeout = 2 * time.Second
	cfg.InsideTimeout = 2 * time.Second
	cfg.APIProxy = false
	f.cfg = cfg
	return f
}

// startExternalLB stands in for HAProxy: it passes each call on to the
// frontend and names the nodes in turn, round robin, in the node header. It
// returns its loopback address.
func startExternalLB(t *testing.T, nodes []string, front http.Handler) string {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(nodeHeader, nodes[int(calls.Add(1)-1)%len(nodes)])
		front.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// hang makes addr reach a server that accepts and never answers.
func (f *fixture) hang(addr string) {
	f.t.Helper()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	f.t.Cleanup(srv.Close)
	f.t.Cleanup(func() { close(release) })
	f.routes[addr] = srv.Listener.Addr().String()
}

// refuse makes addr reach a loopback port where nothing listens.
func (f *fixture) refuse(addr string) {
	f.t.Helper()
	var lc net.ListenConfig
	ln, err := lc.Listen(f.t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		f.t.Fatalf("listen: %v", err)
	}
	f.routes[addr] = ln.Addr().String()
	if err := ln.Close(); err != nil {
		f.t.Fatalf("close listener: %v", err)
	}
}

// replace swaps the object of the same kind and name.
func (f *fixture) replace(obj runtime.Object) {
	name := obj.(metav1.Object).GetName()
	for i, o := range f.objects {
		if o.(metav1.Object).GetName() == name && fmt.Sprintf("%T", o) == fmt.Sprintf("%T", obj) {
			f.objects[i] = obj
			return
		}
	}
	f.objects = append(f.objects, obj)
}

// remove deletes the Service of that name.
func (f *fixture) removeService(name string) {
	for i, o := range f.objects {
		if s, ok := o.(*corev1.Service); ok && s.Name == name {
			f.objects = append(f.objects[:i], f.objects[i+1:]...)
			return
		}
	}
}

func (f *fixture) dial() probe.DialFunc { return dialVia(f.routes) }

// dialVia dials the loopback address that routes maps addr to; any other
// address is an error, as from a client without a route there.
func dialVia(m map[string]string) probe.DialFunc {
	routes := map[string]string{}
	for k, v := range m {
		routes[k] = v
	}
	var d net.Dialer
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		target, ok := routes[addr]
		if !ok {
			return nil, fmt.Errorf("test dialer: no route to %s", addr)
		}
		return d.DialContext(ctx, network, target)
	}
}

func (f *fixture) clientset() *fake.Clientset {
	cs := fake.NewClientset(f.objects...)
	if f.proxy != nil {
		h := f.proxy
		cs.PrependProxyReactor("services", func(a k8stesting.Action) (bool, restclient.ResponseWrapper, error) {
			pa := a.(k8stesting.ProxyGetAction)
			if pa.GetName() != "frontend" || pa.GetPort() != "80" || pa.GetScheme() != "http" {
				return true, nil, fmt.Errorf("unexpected proxy target %s:%s:%s", pa.GetScheme(), pa.GetName(), pa.GetPort())
			}
			return true, handlerResponse{h: h, path: pa.GetPath(), params: pa.GetParams()}, nil
		})
	}
	return cs
}

func (f *fixture) run() Result {
	f.t.Helper()
	cfg := f.cfg
	cfg.DialContext = f.dial()
	if cfg.NoOutside == "" {
		cfg.OutsideDial = dialVia(f.outside)
	}
	res, err := New(f.clientset(), cfg).Run(f.t.Context())
	if err != nil {
		f.t.Fatalf("Run: %v", err)
	}
	return res
}

// handlerResponse answers an API-server proxy call from a handler in memory,
// as the API server would: a non-2xx becomes a StatusError.
type handlerResponse struct {
	h      http.Handler
	path   string
	params map[string]string
}

func (r handlerResponse) DoRaw(ctx context.Context) ([]byte, error) {
	q := url.Values{}
	for k, v := range r.params {
		q.Set(k, v)
	}
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, r.path+"?"+q.Encode(), nil)
	rec := httptest.NewRecorder()
	r.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return nil, apierrors.NewGenericServerResponse(rec.Code, "get", schema.GroupResource{Resource: "services"}, "frontend", rec.Body.String(), 0, true)
	}
	return rec.Body.Bytes(), nil
}

func (r handlerResponse) Stream(context.Context) (io.ReadCloser, error) {
	return nil, fmt.Errorf("stream is not used by the matrix")
}

func nodeObject(name string) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: nodeIPs[name]},
			{Type: corev1.NodeHostName, Address: name},
		}},
	}
}

func service(name string, typ corev1.ServiceType, port, nodePort int32, ingressIP string) *corev1.Service {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: nsName},
		Spec: corev1.ServiceSpec{
			Type:  typ,
			Ports: []corev1.ServicePort{{Name: "http", Port: port, NodePort: nodePort}},
		},
	}
	if ingressIP != "" {
		svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: ingressIP}}
	}
	return svc
}

func clusterIPService(name, ip string, port int32) *corev1.Service {
	svc := service(name, corev1.ServiceTypeClusterIP, port, 0, "")
	svc.Spec.ClusterIP = ip
	return svc
}

// endpointSlice holds one ready endpoint per address, on the given node.
func endpointSlice(service string, addrNode map[string]string) *discoveryv1.EndpointSlice {
	s := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Name: service + "-abcde", Namespace: nsName,
			Labels: map[string]string{discoveryv1.LabelServiceName: service},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
	}
	yes := true
	for addr, node := range addrNode {
		s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{
			Addresses: []string{addr}, NodeName: &node, Conditions: discoveryv1.EndpointConditions{Ready: &yes},
		})
	}
	return s
}
