package kind

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func TestExternalLBConfigServesTheWorkers(t *testing.T) {
	t.Parallel()
	node := func(name, ip string, labels map[string]string) *corev1.Node {
		return &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
			Status:     corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: ip}}},
		}
	}
	client := fake.NewClientset(
		node("podpaths-control-plane", "172.18.0.2", map[string]string{corev1.LabelNodeExcludeBalancers: ""}),
		node("podpaths-worker", "172.18.0.3", nil),
		node("podpaths-worker2", "172.18.0.4", nil),
	)
	p := New(Options{Name: "podpaths", NodePort: 30080})
	raw, err := p.externalLBConfig(t.Context(), client)
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(raw)
	for _, want := range []string{
		"bind 0.0.0.0:8080",
		"server podpaths-worker 172.18.0.3:30080 check port 10256",
		"server podpaths-worker2 172.18.0.4:30080 check port 10256",
	} {
		if !strings.Contains(cfg, want) {
			t.Errorf("haproxy.cfg lacks %q:\n%s", want, cfg)
		}
	}
	if strings.Contains(cfg, "podpaths-control-plane") || strings.Contains(cfg, "\n    user ") {
		t.Errorf("haproxy.cfg serves the control plane kubeadm labelled out, or switches user in a container:\n%s", cfg)
	}
}
