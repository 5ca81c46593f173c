package kube

import (
	"errors"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

func ptr[T any](v T) *T { return &v }

func TestInternalIP(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		addrs []corev1.NodeAddress
		want  string
	}{
		{name: "none", want: ""},
		{name: "hostname only", addrs: []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: "a"}}, want: ""},
		{
			name: "first InternalIP after others",
			addrs: []corev1.NodeAddress{
				{Type: corev1.NodeExternalIP, Address: "203.0.113.5"},
				{Type: corev1.NodeInternalIP, Address: "10.0.0.5"},
				{Type: corev1.NodeInternalIP, Address: "fd00::5"},
			},
			want: "10.0.0.5",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n := &corev1.Node{Status: corev1.NodeStatus{Addresses: tt.addrs}}
			if got := InternalIP(n); got != tt.want {
				t.Errorf("InternalIP(%v) = %q, want %q", tt.addrs, got, tt.want)
			}
		})
	}
}

// slice is an EndpointSlice of the Service svc.
func slice(name, svc string, eps ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "podpaths", Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		Endpoints:  eps,
	}
}

func endpoint(ip, pod, node string, ready *bool) discoveryv1.Endpoint {
	return discoveryv1.Endpoint{
		Addresses:  []string{ip},
		Conditions: discoveryv1.EndpointConditions{Ready: ready},
		TargetRef:  &corev1.ObjectReference{Kind: "Pod", Name: pod},
		NodeName:   &node,
	}
}

func TestReadyEndpoints(t *testing.T) {
	t.Parallel()
	headless := endpoint("10.244.1.7", "backend-0", "b", ptr(true))
	headless.Hostname = ptr("backend-0")
	client := fake.NewClientset(
		slice("backend-1", "backend",
			endpoint("10.244.2.9", "backend-2", "c", ptr(true)),
			headless,
			endpoint("10.244.1.8", "backend-1", "b", ptr(false))),
		// The same endpoint again in a second slice, and one without a
		// ready condition, which counts as ready.
		slice("backend-2", "backend",
			endpoint("10.244.2.9", "backend-2", "c", ptr(true)),
			endpoint("10.244.0.4", "backend-3", "a", nil)),
		slice("frontend-1", "frontend", endpoint("10.244.0.5", "frontend-x", "a", ptr(true))),
	)
	got, err := ReadyEndpoints(t.Context(), client, "podpaths", "backend")
	if err != nil {
		t.Fatalf("ReadyEndpoints: %v", err)
	}
	want := []Endpoint{
		{IP: "10.244.1.7", Pod: "backend-0", Node: "b", Hostname: "backend-0"},
		{IP: "10.244.2.9", Pod: "backend-2", Node: "c"},
		{IP: "10.244.0.4", Pod: "backend-3", Node: "a"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("ReadyEndpoints(backend):\n got %+v\nwant %+v", got, want)
	}
}

func TestReadyEndpointsError(t *testing.T) {
	t.Parallel()
	client := fake.NewClientset()
	client.PrependReactor("list", "endpointslices", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("rbac says no")
	})
	if _, err := ReadyEndpoints(t.Context(), client, "podpaths", "backend"); err == nil || !strings.Contains(err.Error(), "rbac says no") {
		t.Errorf("ReadyEndpoints with the list forbidden: err = %v, want the list error", err)
	}
}
