package kind

import (
	"os"
	"path/filepath"
	"testing"
)

func TestServiceSubnetFromConfig(t *testing.T) {
	t.Parallel()
	lab, err := os.ReadFile(filepath.Join("..", "..", "..", "deploy", "kind", "cluster.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, config, want string
	}{
		{"the lab's cluster: kind's default", string(lab), "10.96.0.0/16"},
		{"set", "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnetworking:\n  serviceSubnet: 10.200.0.0/20\n", "10.200.0.0/20"},
		{"dual-stack: the first family's", "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnetworking:\n  ipFamily: dual\n  serviceSubnet: 10.96.0.0/16,fd00:10:96::/112\n", "10.96.0.0/16"},
		{"IPv6: kind's IPv6 default", "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnetworking:\n  ipFamily: ipv6\n", "fd00:10:96::/112"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := serviceSubnetFromConfig([]byte(tt.config))
			if err != nil || got.String() != tt.want {
				t.Errorf("serviceSubnetFromConfig = %v, %v; want %s", got, err, tt.want)
			}
		})
	}
	if _, err := serviceSubnetFromConfig([]byte("networking:\n  serviceSubnet: not-a-range\n")); err == nil {
		t.Error("serviceSubnetFromConfig accepted serviceSubnet: not-a-range")
	}
}
