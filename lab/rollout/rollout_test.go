package rollout

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
)

const ns = "podpaths"

func ptr[T any](v T) *T { return &v }

func frontend(available int32) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "frontend", Namespace: ns, Generation: 2},
		Spec:       appsv1.DeploymentSpec{Replicas: ptr(int32(2))},
		Status: appsv1.DeploymentStatus{
			ObservedGeneration: 2, Replicas: 2, UpdatedReplicas: 2, AvailableReplicas: available,
		},
	}
}

func backend(ready int32, current string) *appsv1.StatefulSet {
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "backend", Namespace: ns, Generation: 1},
		Spec:       appsv1.StatefulSetSpec{Replicas: ptr(int32(3))},
		Status: appsv1.StatefulSetStatus{
			ObservedGeneration: 1, ReadyReplicas: ready, UpdatedReplicas: 3,
			CurrentRevision: current, UpdateRevision: "backend-2",
		},
	}
}

func lb(ip string) *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "frontend", Namespace: ns},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer},
	}
	if ip != "" {
		s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: ip}}
	}
	return s
}

func TestPending(t *testing.T) {
	t.Parallel()
	stale := frontend(2)
	stale.Generation = 3
	tests := []struct {
		name    string
		objects []runtime.Object
		wantLB  bool
		want    []string
	}{
		{name: "all ready", objects: []runtime.Object{frontend(2), backend(3, "backend-2"), lb("172.18.0.200")}, wantLB: true},
		{name: "nothing applied", want: []string{"no workloads in namespace podpaths"}},
		{
			name:    "deployment short of available",
			objects: []runtime.Object{frontend(1), backend(3, "backend-2")},
			want:    []string{"deployment/frontend 1/2 available, 2 updated"},
		},
		{
			name:    "deployment spec not yet observed",
			objects: []runtime.Object{stale, backend(3, "backend-2")},
			want:    []string{"deployment/frontend 2/2 available, 2 updated"},
		},
		{
			name:    "statefulset ready but still rolling",
			objects: []runtime.Object{frontend(2), backend(3, "backend-1")},
			want:    []string{"statefulset/backend 3/3 ready, 3 updated"},
		},
		{
			name:    "LoadBalancer pending matters only when a controller runs",
			objects: []runtime.Object{frontend(2), backend(2, "backend-2"), lb("")},
			wantLB:  true,
			want:    []string{"service/frontend LoadBalancer address pending", "statefulset/backend 2/3 ready, 3 updated"},
		},
		{
			name:    "LoadBalancer pending ignored without a controller",
			objects: []runtime.Object{frontend(2), backend(3, "backend-2"), lb("")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Pending(t.Context(), fake.NewClientset(tt.objects...), ns, tt.wantLB)
			if err != nil {
				t.Fatalf("Pending: %v", err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Pending:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestWorkload(t *testing.T) {
	t.Parallel()
	unset := frontend(1)
	unset.Spec.Replicas = nil
	unset.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "frontend"}}
	unset.Status = appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 1, UpdatedReplicas: 1, AvailableReplicas: 1}
	scaledDown := backend(3, "backend-2")
	scaledDown.Status.Replicas = 4
	tests := []struct {
		name string
		got  Workload
		want Workload
	}{
		{
			name: "unset replicas default to 1",
			got:  Deployment(unset),
			want: Workload{Name: "deployment/frontend", Selector: unset.Spec.Selector, Want: 1, Replicas: 1},
		},
		{
			name: "deployment with an old pod left",
			got:  Deployment(func() *appsv1.Deployment { d := frontend(2); d.Status.Replicas = 3; return d }()),
			want: Workload{Name: "deployment/frontend", Want: 2, Replicas: 3, Pending: "deployment/frontend 2/2 available, 2 updated"},
		},
		{
			// status.replicas is not part of a StatefulSet's rollout: a
			// caller that minds the extra pod compares Replicas with Want.
			name: "statefulset rolled out with a pod still counted",
			got:  StatefulSet(scaledDown),
			want: Workload{Name: "statefulset/backend", Want: 3, Replicas: 4},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("got %+v, want %+v", tt.got, tt.want)
			}
		})
	}
}

// signalWriter records output and signals after the first write.
type signalWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	first chan struct{}
	once  sync.Once
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.once.Do(func() { close(w.first) })
	return w.buf.Write(p)
}

func (w *signalWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func TestWaitBecomesReady(t *testing.T) {
	t.Parallel()
	client := fake.NewClientset(frontend(2), backend(1, "backend-2"))
	out := &signalWriter{first: make(chan struct{})}
	done := make(chan error, 1)
	go func() { done <- Wait(t.Context(), client, ns, false, 10*time.Millisecond, out) }()
	select {
	case <-out.first:
	case <-time.After(10 * time.Second):
		t.Fatal("Wait printed no progress")
	}
	ready := backend(3, "backend-2")
	if _, err := client.AppsV1().StatefulSets(ns).UpdateStatus(t.Context(), ready, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("update status: %v", err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Wait: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Wait did not return after the statefulset became ready")
	}
	got := out.String()
	want := "waiting: statefulset/backend 1/3 ready, 3 updated\nready: every workload in podpaths\n"
	if got != want {
		t.Errorf("progress:\n got %q\nwant %q", got, want)
	}
}

func TestWaitTimeout(t *testing.T) {
	t.Parallel()
	client := fake.NewClientset(frontend(0), backend(3, "backend-2"))
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	var out bytes.Buffer
	err := Wait(ctx, client, ns, false, 10*time.Millisecond, &out)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "deployment/frontend 0/2 available") {
		t.Fatalf("Wait: got %v, want a deadline error naming the frontend", err)
	}
	if strings.Count(out.String(), "waiting:") != 1 {
		t.Errorf("progress repeated an unchanged state:\n%s", out.String())
	}
}

func TestLoadBalancersUnattended(t *testing.T) {
	t.Parallel()
	event := func(kind, name string) *corev1.Event {
		return &corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Name: name + "-event", Namespace: ns},
			InvolvedObject: corev1.ObjectReference{Kind: kind, Name: name, Namespace: ns},
			Reason:         "IPAllocated",
		}
	}
	other := lb("")
	other.Name = "frontend-other"
	tests := []struct {
		name string
		objs []runtime.Object
		want []string
	}{
		{"no address, no event", []runtime.Object{lb("")}, []string{"service/frontend"}},
		{"no address, a controller's event", []runtime.Object{lb(""), event("Service", "frontend")}, nil},
		{"an address", []runtime.Object{lb("172.18.0.200")}, nil},
		{"an event about another object", []runtime.Object{lb(""), event("Pod", "frontend"), other, event("Service", "frontend-other")}, []string{"service/frontend"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := LoadBalancersUnattended(t.Context(), fake.NewClientset(tt.objs...), ns)
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestRestartAddsANewTemplateAnnotation(t *testing.T) {
	ctx := context.Background()
	client := fake.NewClientset(
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "frontend", Namespace: "podpaths"}},
		&appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "backend", Namespace: "podpaths"}},
	)
	const key = "kubectl.kubernetes.io/restartedAt"
	if err := Restart(ctx, client, "podpaths", "Deployment", "frontend"); err != nil {
		t.Fatal(err)
	}
	d, err := client.AppsV1().Deployments("podpaths").Get(ctx, "frontend", metav1.GetOptions{})
	if err != nil || d.Spec.Template.Annotations[key] == "" {
		t.Fatalf("deployment after Restart: %v, annotations %v; want %s", err, d.Spec.Template.Annotations, key)
	}
	if err := Restart(ctx, client, "podpaths", "statefulset", "backend"); err != nil {
		t.Fatal(err)
	}
	s, err := client.AppsV1().StatefulSets("podpaths").Get(ctx, "backend", metav1.GetOptions{})
	if err != nil || s.Spec.Template.Annotations[key] == "" {
		t.Fatalf("statefulset after Restart: %v, annotations %v; want %s", err, s.Spec.Template.Annotations, key)
	}
	first := s.Spec.Template.Annotations[key]
	if err := Restart(ctx, client, "podpaths", "statefulset", "backend"); err != nil {
		t.Fatal(err)
	}
	if s, _ = client.AppsV1().StatefulSets("podpaths").Get(ctx, "backend", metav1.GetOptions{}); s.Spec.Template.Annotations[key] == first {
		t.Errorf("a second Restart kept the annotation %q: no new revision", first)
	}
}

func TestRestartRefusesAnUnknownKind(t *testing.T) {
	err := Restart(context.Background(), fake.NewClientset(), "podpaths", "daemonset", "x")
	if err == nil || !strings.Contains(err.Error(), "unknown workload kind") {
		t.Errorf("Restart of a daemonset = %v; want an unknown workload kind error", err)
	}
}
