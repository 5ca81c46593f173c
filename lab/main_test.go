package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
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

	"github.com/podpaths/podpaths/lab/matrix"
	"github.com/podpaths/podpaths/platform/report"
)

// fakeProvider records what the commands asked of it.
type fakeProvider struct {
	mu       sync.Mutex
	calls    []string
	exists   bool
	lbRuns   bool
	archives []string
}

func (p *fakeProvider) record(call string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, call)
}

func (p *fakeProvider) Name() string    { return "kind" }
func (p *fakeProvider) Overlay() string { return filepath.Join("deploy", "overlays", "kind") }
func (p *fakeProvider) Exists(context.Context) (bool, error) {
	p.record("Exists")
	return p.exists, nil
}
func (p *fakeProvider) Create(context.Context) error { p.record("Create"); return nil }
func (p *fakeProvider) Delete(context.Context) error { p.record("Delete"); return nil }
func (p *fakeProvider) Kubeconfig(context.Context) ([]byte, error) {
	p.record("Kubeconfig")
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
		newClients: func(kubeconfig []byte) (clients, error) {
			e.kubeconfig = kubeconfig
			return clients{kube: e.kube, dynamic: e.dynamic, mapper: testMapper()}, nil
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
		{ID: "frontend-backend-dns", From: "frontend", To: "backend", Method: report.MethodDNS, OK: true, Expected: report.ExpectOK},
		{ID: "frontend-backend-env", From: "frontend", To: "backend", Method: report.MethodEnv, ErrorKind: report.ErrorUnconfigured, Error: "enableServiceLinks is false"},
	})
	mux.HandleFunc("GET /api/paths", func(w http.ResponseWriter, _ *http.Request) { write(w, rep) })
	mux.HandleFunc("GET /my-be/api/peers", func(w http.ResponseWriter, _ *http.Request) { write(w, rep) })
	mux.HandleFunc("GET /api/spread", func(w http.ResponseWriter, _ *http.Request) {
		var pods []map[string]any
		n := 0
		for pod, c := range e.spread {
			pods = append(pods, map[string]any{"pod": pod, "count": c})
			n += c
		}
		write(w, map[string]any{"n": n, "keepalive": false, "pods": pods, "errors": map[string]int{}})
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

func TestUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string // in stderr
	}{
		{name: "no command", args: nil, wantCode: 2, wantErr: "usage: lab"},
		{name: "unknown command", args: []string{"deploy"}, wantCode: 2, wantErr: `unknown command "deploy"`},
		{name: "unknown flag", args: []string{"--colour", "up"}, wantCode: 2, wantErr: "flag provided but not defined"},
		{name: "help", args: []string{"-h"}, wantCode: 0, wantErr: "usage: lab"},
		{name: "stray argument", args: []string{"down", "now"}, wantCode: 2, wantErr: `unexpected arguments ["now"]`},
		{name: "bad command flag", args: []string{"check", "--junit"}, wantCode: 2, wantErr: "flag needs an argument"},
		{name: "unknown provider", args: []string{"--provider", "minikube", "down"}, wantCode: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, stderr, err := newEnv(t).run(tt.args...)
			if got := exitCode(err); got != tt.wantCode {
				t.Errorf("lab %q: exit %d (%v), want %d", tt.args, got, err, tt.wantCode)
			}
			if !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("lab %q: stderr lacks %q:\n%s", tt.args, tt.wantErr, stderr)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		spread      map[string]int
		wantCode    int
		wantSummary string
		wantFail    int
	}{
		{
			name:        "healthy lab",
			spread:      map[string]int{"backend-0": 10, "backend-1": 10},
			wantSummary: "All 11 paths (9 actions) ok, 2 skipped (frontend-backend-env: enableServiceLinks is false)\n",
		},
		{
			name:        "a failing path exits 1",
			spread:      map[string]int{"backend-0": 20},
			wantCode:    1,
			wantSummary: "FAIL: 1 of 11 paths failed (9 actions), 2 skipped (",
			wantFail:    1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.spread = tt.spread
			junit := filepath.Join(t.TempDir(), "check.xml")
			stdout, stderr, err := e.run("check", "--junit", junit)
			if got := exitCode(err); got != tt.wantCode {
				t.Fatalf("check: exit %d (%v), want %d\n%s%s", got, err, tt.wantCode, stdout, stderr)
			}
			lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
			if len(lines) != 14 || !strings.HasPrefix(lines[13]+"\n", tt.wantSummary) {
				t.Errorf("check output: got %d lines ending %q, want 13 path lines and %q", len(lines), lines[len(lines)-1], tt.wantSummary)
			}
			if lines[0] != "outside -> localhost 127.0.0.1:30080 via nodeport: ok frontend-a@podpaths-worker "+latencyOf(lines[0]) {
				t.Errorf("first line: got %q", lines[0])
			}
			if !slices.Contains(e.provider.calls, "Kubeconfig") || string(e.kubeconfig) != "provider-kubeconfig" {
				t.Errorf("check did not use the provider's kubeconfig: calls %v, kubeconfig %q", e.provider.calls, e.kubeconfig)
			}
			raw, err := os.ReadFile(junit)
			if err != nil {
				t.Fatalf("junit file: %v", err)
			}
			var doc struct {
				Tests    int `xml:"tests,attr"`
				Failures int `xml:"failures,attr"`
				Skipped  int `xml:"skipped,attr"`
			}
			if err := xml.Unmarshal(raw, &doc); err != nil {
				t.Fatalf("parse junit: %v", err)
			}
			if doc.Tests != 13 || doc.Failures != tt.wantFail || doc.Skipped != 2 {
				t.Errorf("junit: got tests=%d failures=%d skipped=%d, want 13/%d/2", doc.Tests, doc.Failures, doc.Skipped, tt.wantFail)
			}
		})
	}
}

// latencyOf returns the last field of a line, the latency, which varies.
func latencyOf(line string) string {
	f := strings.Fields(line)
	return f[len(f)-1]
}

func TestCheckWithKubeconfig(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kc, []byte("file-kubeconfig"), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, _, err := e.run("check", "--kubeconfig", kc)
	if err != nil {
		t.Fatalf("check: %v\n%s", err, stdout)
	}
	if string(e.kubeconfig) != "file-kubeconfig" || slices.Contains(e.provider.calls, "Kubeconfig") {
		t.Errorf("check --kubeconfig: clients got %q, provider calls %v", e.kubeconfig, e.provider.calls)
	}
	if strings.Contains(stdout, "localhost") || !strings.Contains(stdout, "(8 actions)") {
		t.Errorf("check --kubeconfig checked the provider's localhost mapping:\n%s", stdout)
	}
}

func TestCheckMissingKubeconfig(t *testing.T) {
	t.Parallel()
	_, _, err := newEnv(t).run("check", "--kubeconfig", filepath.Join(t.TempDir(), "missing"))
	if exitCode(err) != 1 || !strings.Contains(err.Error(), "make kind-up") {
		t.Fatalf("check with a missing kubeconfig: got %v, want exit 1 with a hint", err)
	}
}

// upRoot lays out what `up` reads: an images script and an overlay.
func upRoot(t *testing.T, root, script string) {
	t.Helper()
	files := map[string]string{
		"hack/images.sh": script,
		"deploy/overlays/kind/kustomization.yaml": "namespace: podpaths\nresources: [ns.yaml, svc.yaml]\n",
		"deploy/overlays/kind/ns.yaml":            "apiVersion: v1\nkind: Namespace\nmetadata: {name: podpaths}\n",
		"deploy/overlays/kind/svc.yaml":           "apiVersion: v1\nkind: Service\nmetadata: {name: backend}\nspec: {ports: [{port: 8080}]}\n",
	}
	for name, content := range files {
		path := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const imagesScript = `set -o errexit -o nounset -o pipefail
mkdir -p _output/images
: > _output/images/backend.tar
: > _output/images/nginx.tar
`

func TestUp(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	upRoot(t, e.root, imagesScript)
	stdout, stderr, err := e.run("up", "--wait", "10s")
	if err != nil {
		t.Fatalf("up: %v\n%s", err, stderr)
	}
	wantCalls := []string{"Create", "LoadImages", "StartLoadBalancer", "Kubeconfig"}
	if !slices.Equal(e.provider.calls, wantCalls) {
		t.Errorf("provider calls: got %v, want %v", e.provider.calls, wantCalls)
	}
	wantArchives := []string{filepath.Join(e.root, "_output/images/backend.tar"), filepath.Join(e.root, "_output/images/nginx.tar")}
	if !slices.Equal(e.provider.archives, wantArchives) {
		t.Errorf("archives: got %v, want %v", e.provider.archives, wantArchives)
	}
	if want := []string{"namespaces/podpaths", "services/backend"}; !slices.Equal(e.applied, want) {
		t.Errorf("applied: got %v, want %v", e.applied, want)
	}
	for _, want := range []string{"dashboard via NodePort:     http://localhost:30080/", "dashboard via LoadBalancer: http://172.18.0.200/"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("up output lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "ready: every workload in podpaths") {
		t.Errorf("up did not report readiness:\n%s", stderr)
	}
}

func TestUpFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		script  string
		args    []string
		wantErr string
	}{
		{name: "image build fails", script: "exit 3\n", args: []string{"up"}, wantErr: "hack/images.sh: exit status 3"},
		{name: "no archives", script: "true\n", args: []string{"up"}, wantErr: "no image archives"},
		{name: "skip images without archives", script: "exit 3\n", args: []string{"up", "--skip-images"}, wantErr: "no image archives"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			upRoot(t, e.root, tt.script)
			_, _, err := e.run(tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("%v: got %v, want %q", tt.args, err, tt.wantErr)
			}
			if slices.Contains(e.provider.calls, "LoadImages") {
				t.Errorf("images were loaded after a failed build: %v", e.provider.calls)
			}
		})
	}
}

// TestUpWaitsForTheLoadBalancer proves `up` waits for the LB address when a
// controller runs, and after --lb-wait warns and goes on: every other path
// works without it.
func TestUpWaitsForTheLoadBalancer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	upRoot(t, e.root, imagesScript)
	svc, err := e.kube.CoreV1().Services("podpaths").Get(t.Context(), "frontend", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	svc.Status.LoadBalancer.Ingress = nil
	if _, err := e.kube.CoreV1().Services("podpaths").UpdateStatus(t.Context(), svc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := e.run("up", "--lb-wait", "100ms")
	if err != nil {
		t.Fatalf("up with a pending LoadBalancer: %v\n%s", err, stderr)
	}
	for _, want := range []string{"waiting: service/frontend LoadBalancer address pending", "the LoadBalancer has no address yet"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("up stderr lacks %q:\n%s", want, stderr)
		}
	}
	if !strings.Contains(stdout, "dashboard via LoadBalancer: pending") {
		t.Errorf("up stdout does not say the LoadBalancer is pending:\n%s", stdout)
	}

	// Workloads that never get ready are an error, at --wait.
	e = newEnv(t)
	upRoot(t, e.root, imagesScript)
	sts, err := e.kube.AppsV1().StatefulSets("podpaths").Get(t.Context(), "backend", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sts.Status.ReadyReplicas = 1
	if _, err := e.kube.AppsV1().StatefulSets("podpaths").UpdateStatus(t.Context(), sts, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	_, stderr, err = e.run("up", "--wait", "100ms")
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "statefulset/backend 1/3 ready") {
		t.Fatalf("up with an unready backend: got %v, want a timeout naming it\n%s", err, stderr)
	}
}

func TestDown(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if _, _, err := e.run("down"); err != nil {
		t.Fatalf("down: %v", err)
	}
	if !slices.Equal(e.provider.calls, []string{"Delete"}) {
		t.Errorf("down: provider calls %v, want [Delete]", e.provider.calls)
	}
}

func TestStatus(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	stdout, _, err := e.run("status")
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	for _, want := range []string{"podpaths-worker2", "frontend-nodeport", "172.18.0.200", "cloud-provider-kind: running (pid 42)", "http://localhost:30080/"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("status lacks %q:\n%s", want, stdout)
		}
	}

	e = newEnv(t)
	e.provider.exists = false
	stdout, _, err = e.run("status")
	if err != nil || stdout != "kind cluster \"podpaths\" does not exist (make kind-up creates it)\n" {
		t.Errorf("status without a cluster: got %q, %v", stdout, err)
	}
}

// hostProvider is a provider whose nodes run on this machine, like local.
type hostProvider struct{ *fakeProvider }

func (hostProvider) NodeURLs() []string     { return []string{"http://192.0.2.2:30080/"} }
func (hostProvider) KubeconfigFile() string { return "/state/admin.kubeconfig" }

func TestStatusOfAHostCluster(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.deps()
	d.newProvider = func(globals, *slog.Logger) (provider, error) { return hostProvider{e.provider}, nil }
	var out, errOut bytes.Buffer
	if err := runWith(t.Context(), []string{"status"}, &out, &errOut, d); err != nil {
		t.Fatalf("status: %v\n%s", err, errOut.String())
	}
	for _, want := range []string{"dashboard via node IP:      http://192.0.2.2:30080/", "export KUBECONFIG=/state/admin.kubeconfig"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status of a cluster on this machine lacks %q:\n%s", want, out.String())
		}
	}
	// The kind provider, which runs elsewhere, prints neither.
	kindOut, _, err := e.run("status")
	if err != nil || strings.Contains(kindOut, "KUBECONFIG") || strings.Contains(kindOut, "node IP") {
		t.Errorf("kind status: %v\n%s", err, kindOut)
	}
}

func TestNewProvider(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	p, err := newProvider(globals{provider: "local", name: "podpaths", root: t.TempDir()}, log)
	if err != nil {
		t.Fatalf("local: %v", err)
	}
	if p.Name() != "local" || p.Overlay() != filepath.Join("deploy", "overlays", "local") {
		t.Errorf("local: got provider %s with overlay %s", p.Name(), p.Overlay())
	}
	if _, onHost := p.(hostCluster); !onHost {
		t.Error("the local provider does not print its node URLs and kubeconfig file")
	}
	if lh, err := p.Localhost(); err != nil || lh.Address != "127.0.0.1:30080" || lh.Node != "podpaths-a" {
		t.Errorf("local Localhost: %+v, %v; want 127.0.0.1:30080 on podpaths-a", lh, err)
	}
	if _, err := newProvider(globals{provider: "minikube"}, log); !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "kind, local") {
		t.Errorf("unknown provider: got %v, want a usage error naming kind and local", err)
	}
}

func TestFindRoot(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	nested := filepath.Join(root, "lab", "internal")
	if err := os.MkdirAll(nested, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "go.work"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := findRoot(func() (string, error) { return nested, nil })
	if err != nil || got != root {
		t.Errorf("findRoot(%s): got %q, %v; want %q", nested, got, err, root)
	}
	if _, err := findRoot(func() (string, error) { return "/", nil }); err == nil {
		t.Error("findRoot(/): got no error")
	}
}
