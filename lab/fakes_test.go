package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/podpaths/podpaths/lab/kube"
	"github.com/podpaths/podpaths/lab/matrix"
	"github.com/podpaths/podpaths/platform/probe"
	"github.com/podpaths/podpaths/platform/report"
)

// The fakes the command tests run against: a provider, a fake cluster and an nginx stand-in.

// fakeProvider records what the commands asked of it.
type fakeProvider struct {
	mu       sync.Mutex
	calls    []string
	exists   bool
	lbRuns   bool
	archives []string
	// kubeconfigErr is what Kubeconfig fails with, if anything.
	kubeconfigErr error
	// externalLB is where the external load balancer answers, if anywhere.
	externalLB string
}

func (p *fakeProvider) record(call string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, call)
}

func (p *fakeProvider) Name() string { return "kind" }

func (p *fakeProvider) Overlay() string { return filepath.Join("deploy", "overlays", "kind") }

func (p *fakeProvider) Exists(context.Context) (bool, error) {
	p.record("Exists")
	return p.exists, nil
}

func (p *fakeProvider) Create(context.Context) error { p.record("Create"); return nil }

func (p *fakeProvider) Delete(context.Context) error { p.record("Delete"); return nil }

func (p *fakeProvider) Kubeconfig(context.Context) ([]byte, error) {
	p.record("Kubeconfig")
	if p.kubeconfigErr != nil {
		return nil, p.kubeconfigErr
	}
	return []byte("provider-kubeconfig"), nil
}

func (p *fakeProvider) LoadImages(_ context.Context, archives []string) error {
	p.record("LoadImages")
	p.archives = archives
	return nil
}

func (p *fakeProvider) StartLoadBalancer(context.Context) (bool, error) {
	p.record("StartLoadBalancer")
	return p.lbRuns, nil
}

func (p *fakeProvider) LoadBalancerStatus() string { return "cloud-provider-kind: running (pid 42)" }

func (p *fakeProvider) NodeIPsUnreachable() string { return "" }
func (p *fakeProvider) ExternalLB() (string, string) {
	if p.externalLB != "" {
		return p.externalLB, ""
	}
	return "", "the fake cluster has no external load balancer"
}

func (p *fakeProvider) OutsideClient() (probe.DialFunc, string) {
	return nil, "the fake cluster has no outside client"
}

func (p *fakeProvider) Localhost() (matrix.Localhost, error) {
	return matrix.Localhost{Address: "127.0.0.1:30080", Node: "podpaths-control-plane"}, nil
}

// env is a fake world for the CLI: a provider, a fake cluster, and one
// loopback stand-in for nginx that every outside address is routed to.
type env struct {
	t          *testing.T
	root       string
	provider   *fakeProvider
	kube       *fake.Clientset
	dynamic    *dynamicfake.FakeDynamicClient
	applied    []string
	kubeconfig []byte
	spread     map[string]int
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, root: t.TempDir(), provider: &fakeProvider{exists: true, lbRuns: true},
		spread: map[string]int{"backend-0": 10, "backend-1": 10}}
	if err := os.WriteFile(filepath.Join(e.root, "go.work"), []byte("go 1.26.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.kube = fake.NewClientset(labObjects()...)
	e.dynamic = dynamicfake.NewSimpleDynamicClient(runtime.NewScheme())
	e.dynamic.PrependReactor("patch", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
		pa := a.(k8stesting.PatchActionImpl)
		e.applied = append(e.applied, pa.GetResource().Resource+"/"+pa.Name)
		return true, &unstructured.Unstructured{Object: map[string]any{}}, nil
	})
	return e
}

func (e *env) deps() deps {
	srv := httptest.NewServer(e.nginx())
	e.t.Cleanup(srv.Close)
	loop := srv.Listener.Addr().String()
	var d net.Dialer
	return deps{
		newProvider: func(g globals, _ *slog.Logger) (provider, error) {
			if g.provider != "kind" {
				return nil, fmt.Errorf("%w: unknown provider %q", errUsage, g.provider)
			}
			return e.provider, nil
		},
		newClients: func(kubeconfig []byte) (kube.Clients, error) {
			e.kubeconfig = kubeconfig
			return kube.Clients{Kube: e.kube, Dynamic: e.dynamic, Mapper: testMapper()}, nil
		},
		// Every outside address (node IPs, LB IP, localhost) reaches the
		// stand-in; nothing else is ever dialled.
		dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, loop)
		},
		getwd: func() (string, error) { return e.root, nil },
	}
}

// nginx answers what the matrix asks through the frontend's nginx.
func (e *env) nginx() http.Handler {
	mux := http.NewServeMux()
	write := func(w http.ResponseWriter, v any) {
		if err := json.NewEncoder(w).Encode(v); err != nil {
			e.t.Errorf("encode: %v", err)
		}
	}
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, _ *http.Request) {
		write(w, map[string]string{"service": "frontend", "pod": "frontend-a", "node": "podpaths-worker"})
	})
	mux.HandleFunc("GET /my-be/api/whoami", func(w http.ResponseWriter, _ *http.Request) {
		write(w, map[string]string{"service": "backend", "pod": "backend-0", "node": "podpaths-worker"})
	})
	rep := report.New("frontend-a", time.Unix(0, 0), []report.Path{
		{ID: report.FrontendBackendID(report.MethodDNS), From: "frontend", To: "backend", Method: report.MethodDNS, OK: true, Expected: report.ExpectOK},
		{ID: report.FrontendBackendID(report.MethodEnv), From: "frontend", To: "backend", Method: report.MethodEnv, ErrorKind: report.ErrorUnconfigured, Error: "enableServiceLinks is false"},
	})
	mux.HandleFunc("GET /api/paths", func(w http.ResponseWriter, _ *http.Request) { write(w, rep) })
	mux.HandleFunc("GET /my-be/api/peers", func(w http.ResponseWriter, _ *http.Request) { write(w, rep) })
	mux.HandleFunc("GET /api/spread", func(w http.ResponseWriter, _ *http.Request) {
		sp := report.Spread{Errors: map[string]int{}}
		for pod, c := range e.spread {
			sp.Pods = append(sp.Pods, report.PodCount{Pod: pod, Count: c})
			sp.N += c
		}
		write(w, sp)
	})
	return mux
}

func (e *env) run(args ...string) (stdout, stderr string, err error) {
	var out, errOut bytes.Buffer
	err = runWith(e.t.Context(), args, &out, &errOut, e.deps())
	return out.String(), errOut.String(), err
}

// labObjects is a deployed, ready lab on three nodes.
func labObjects() []runtime.Object {
	three := int32(3)
	yes := true
	objs := []runtime.Object{
		&corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "frontend-nodeport", Namespace: "podpaths"},
			Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{{Port: 80, NodePort: 30080}}},
		},
		&corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "frontend", Namespace: "podpaths"},
			Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Port: 80, NodePort: 31000}}},
			Status: corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{
				Ingress: []corev1.LoadBalancerIngress{{IP: "172.18.0.200"}}}},
		},
		&corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "backend", Namespace: "podpaths"},
			Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: "10.96.0.80", Ports: []corev1.ServicePort{{Port: 8080}}},
		},
		&appsv1.StatefulSet{
			ObjectMeta: metav1.ObjectMeta{Name: "backend", Namespace: "podpaths"},
			Spec:       appsv1.StatefulSetSpec{Replicas: &three},
			Status:     appsv1.StatefulSetStatus{ReadyReplicas: 3, UpdatedReplicas: 3},
		},
		&discoveryv1.EndpointSlice{
			ObjectMeta: metav1.ObjectMeta{Name: "backend-x", Namespace: "podpaths",
				Labels: map[string]string{discoveryv1.LabelServiceName: "backend"}},
			Endpoints: []discoveryv1.Endpoint{
				{Addresses: []string{"10.244.1.2"}, Conditions: discoveryv1.EndpointConditions{Ready: &yes}},
				{Addresses: []string{"10.244.2.2"}, Conditions: discoveryv1.EndpointConditions{Ready: &yes}},
			},
		},
	}
	for i, n := range []string{"podpaths-control-plane", "podpaths-worker", "podpaths-worker2"} {
		objs = append(objs, &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: n},
			Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{
				{Type: corev1.NodeInternalIP, Address: fmt.Sprintf("172.18.0.%d", i+2)}}},
		})
	}
	return objs
}

func testMapper() meta.RESTMapper {
	m := meta.NewDefaultRESTMapper(nil)
	m.Add(schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}, meta.RESTScopeRoot)
	m.Add(schema.GroupVersionKind{Version: "v1", Kind: "Service"}, meta.RESTScopeNamespace)
	return m
}
