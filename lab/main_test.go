package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

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

func (hostProvider) NodeURLs() []string { return []string{"http://192.0.2.2:30080/"} }

func (hostProvider) KubeconfigFile() string { return "/state/admin.kubeconfig" }

func TestStatusOfAHostCluster(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.deps()
	e.provider.externalLB = "172.31.0.2:8080"
	d.newProvider = func(globals, *slog.Logger) (provider, error) { return hostProvider{e.provider}, nil }
	var out, errOut bytes.Buffer
	if err := runWith(t.Context(), []string{"status"}, &out, &errOut, d); err != nil {
		t.Fatalf("status: %v\n%s", err, errOut.String())
	}
	for _, want := range []string{"dashboard via node IP:      http://192.0.2.2:30080/", "export KUBECONFIG=/state/admin.kubeconfig",
		"dashboard via external LB:  http://172.31.0.2:8080/"} {
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

// The hint to create the lab comes only when the cluster does not exist: a
// lab that is up and fails has another reason, and the hint would mislead.
func TestKubeconfigErrorHintsOnlyWhenTheLabIsNotUp(t *testing.T) {
	t.Parallel()
	const hint = "make kind-up creates it"
	for _, exists := range []bool{false, true} {
		e := newEnv(t)
		e.provider.exists = exists
		e.provider.kubeconfigErr = errors.New("docker: permission denied")
		_, _, err := e.run("check")
		if err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Fatalf("exists=%v: check: got %v, want the kubeconfig error", exists, err)
		}
		if strings.Contains(err.Error(), hint) == exists {
			t.Errorf("exists=%v: got %q, want the hint %q only when the lab is not up", exists, err, hint)
		}
	}
}
