package workshop

import (
	"io"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/podpaths/podpaths/lab/kube"
)

func serviceAt(name, clusterIP string) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "podpaths"}, Spec: corev1.ServiceSpec{ClusterIP: clusterIP}}
}

func manifestService(name, clusterIP string) *unstructured.Unstructured {
	spec := map[string]any{"type": "ClusterIP"}
	if clusterIP != "" {
		spec["clusterIP"] = clusterIP
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Service", "metadata": map[string]any{"name": name}, "spec": spec,
	}}
}

// TestRepin checks that reset replaces only a Service whose pinned ClusterIP
// was lost: one recreated by hand. Unpinned, headless, matching and missing
// Services stay as they are.
func TestRepin(t *testing.T) {
	t.Parallel()
	objs := []*unstructured.Unstructured{
		manifestService("backend", "10.96.0.80"),
		manifestService("backend-headless", "None"),
		manifestService("backend-sticky", ""),
		manifestService("gone", "10.96.0.81"),
	}
	tests := []struct {
		name        string
		live        *corev1.Service
		wantDeleted bool
	}{
		{name: "recreated by hand", live: serviceAt("backend", "10.96.200.7"), wantDeleted: true},
		{name: "still pinned", live: serviceAt("backend", "10.96.0.80")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			client := fake.NewClientset(tt.live, serviceAt("backend-headless", "None"), serviceAt("backend-sticky", "10.96.9.9"))
			env := &Env{Clients: kube.Clients{Kube: client}, Namespace: "podpaths", Out: io.Discard}
			deleted, err := repin(t.Context(), env, objs)
			if err != nil {
				t.Fatal(err)
			}
			left, err := client.CoreV1().Services("podpaths").List(t.Context(), metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			wantLeft := 3
			if tt.wantDeleted {
				wantLeft = 2
			}
			if deleted != tt.wantDeleted || len(left.Items) != wantLeft {
				t.Errorf("repin = %v leaving %d Services, want %v leaving %d", deleted, len(left.Items), tt.wantDeleted, wantLeft)
			}
		})
	}
}
