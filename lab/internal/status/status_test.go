package status

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func TestPrint(t *testing.T) {
	t.Parallel()
	always := corev1.ContainerRestartPolicyAlways
	client := fake.NewClientset(
		&corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: "podpaths-control-plane", Labels: map[string]string{"node-role.kubernetes.io/control-plane": ""}},
			Status: corev1.NodeStatus{
				Addresses:  []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "172.18.0.2"}},
				Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
				NodeInfo:   corev1.NodeSystemInfo{KubeletVersion: "v1.37.2"},
			},
		},
		&corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "backend-0", Namespace: "podpaths"},
			Spec: corev1.PodSpec{
				NodeName:       "podpaths-worker",
				InitContainers: []corev1.Container{{Name: "sidecar", RestartPolicy: &always}},
				Containers:     []corev1.Container{{Name: "backend"}},
			},
			Status: corev1.PodStatus{
				Phase: corev1.PodRunning, PodIP: "10.244.1.4",
				InitContainerStatuses: []corev1.ContainerStatus{{Name: "sidecar", Ready: true, RestartCount: 1}},
				ContainerStatuses:     []corev1.ContainerStatus{{Name: "backend", Ready: false}},
			},
		},
		&corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "frontend", Namespace: "podpaths"},
			Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, ClusterIP: "10.96.0.20",
				Ports: []corev1.ServicePort{{Port: 80, NodePort: 31234, Protocol: corev1.ProtocolTCP}}},
		},
		&corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "backend-headless", Namespace: "podpaths"},
			Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: "None",
				Ports: []corev1.ServicePort{{Port: 8080, Protocol: corev1.ProtocolTCP}}},
		},
	)
	var b bytes.Buffer
	if err := Print(t.Context(), client, "podpaths", &b); err != nil {
		t.Fatalf("Print: %v", err)
	}
	out := b.String()
	for _, want := range []string{
		`podpaths-control-plane +control-plane +True +172\.18\.0\.2 +v1\.37\.2`,
		`backend-0 +1/2 +Running +1 +10\.244\.1\.4 +podpaths-worker`,
		`frontend +LoadBalancer +10\.96\.0\.20 +80:31234/TCP +<pending>`,
		`backend-headless +ClusterIP +None +8080/TCP +<none>`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("status lacks /%s/:\n%s", want, out)
		}
	}
	// Three tables (header + rows) separated by blank lines.
	if strings.Count(out, "\n") != 9 || strings.Count(out, "\n\n") != 2 {
		t.Errorf("status: got %d lines, want 3 tables in 9 lines:\n%s", strings.Count(out, "\n"), out)
	}
}

func TestLoadBalancerAddress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ingress []corev1.LoadBalancerIngress
		want    string
	}{
		{nil, ""},
		{[]corev1.LoadBalancerIngress{{IP: "172.18.0.200"}}, "172.18.0.200"},
		{[]corev1.LoadBalancerIngress{{Hostname: "lb.example"}}, "lb.example"},
	}
	for _, tt := range tests {
		s := corev1.Service{Status: corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: tt.ingress}}}
		if got := LoadBalancerAddress(s); got != tt.want {
			t.Errorf("LoadBalancerAddress(%v): got %q, want %q", tt.ingress, got, tt.want)
		}
	}
}
