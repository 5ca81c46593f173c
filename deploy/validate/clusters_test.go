package validate_test

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"

	"github.com/podpaths/podpaths/deploy/validate"
)

// The cluster-side files: the kind cluster config and the local cluster's LoadBalancer pool.

// TestLocalLB checks the MetalLB pool of the offline cluster: a separate kustomization, applied after MetalLB's
// CRDs, handing out addresses only from the LoadBalancer range that the lab routes locally.
func TestLocalLB(t *testing.T) {
	t.Parallel()
	set := renderSet(t, filepath.Join(deployDir(t), "local-lb"))
	for _, c := range validate.Checks() {
		for _, err := range c.Run(set) {
			t.Errorf("%s: %v", c.Name, err)
		}
	}
	if len(set.Custom) != 1 {
		t.Fatalf("local-lb: %d custom objects, want 1 IPAddressPool", len(set.Custom))
	}
	pool := set.Custom[0]
	if pool.GetKind() != "IPAddressPool" || pool.GetNamespace() != "metallb-system" {
		t.Errorf("local-lb: got %s %s/%s, want IPAddressPool in metallb-system", pool.GetKind(), pool.GetNamespace(), pool.GetName())
	}
	if err := poolWithin(pool, netip.MustParsePrefix("10.97.0.0/24")); err != nil {
		t.Error(err)
	}
}

// poolWithin checks every entry of an IPAddressPool's spec.addresses ("a-b" ranges or CIDRs) lies inside lb.
func poolWithin(pool *unstructured.Unstructured, lb netip.Prefix) error {
	addrs, found, err := unstructured.NestedStringSlice(pool.Object, "spec", "addresses")
	if err != nil || !found || len(addrs) == 0 {
		return fmt.Errorf("IPAddressPool %s: spec.addresses got %v (found=%v, err=%v), want a non-empty list", pool.GetName(), addrs, found, err)
	}
	for _, a := range addrs {
		var first, last netip.Addr
		if lo, hi, ok := strings.Cut(a, "-"); ok {
			first, err = netip.ParseAddr(strings.TrimSpace(lo))
			if err == nil {
				last, err = netip.ParseAddr(strings.TrimSpace(hi))
			}
		} else {
			var p netip.Prefix
			p, err = netip.ParsePrefix(a)
			first, last = p.Masked().Addr(), lastAddr(p)
		}
		if err != nil {
			return fmt.Errorf("IPAddressPool %s: address %q: %w", pool.GetName(), a, err)
		}
		if !lb.Contains(first) || !lb.Contains(last) || last.Less(first) {
			return fmt.Errorf("IPAddressPool %s: address %q, want a range inside %s", pool.GetName(), a, lb)
		}
	}
	return nil
}

func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As4()
	hostBits := 32 - p.Bits()
	for i := 3; i >= 0 && hostBits > 0; i-- {
		n := min(hostBits, 8)
		a[i] |= byte(1<<n - 1)
		hostBits -= n
	}
	return netip.AddrFrom4(a)
}

func TestPoolWithin(t *testing.T) {
	t.Parallel()
	lb := netip.MustParsePrefix("10.97.0.0/24")
	tests := []struct {
		addresses string
		wantErr   bool
	}{
		{"10.97.0.100-10.97.0.200", false},
		{"10.97.0.128/25", false},
		{"10.97.0.100-10.97.1.10", true},
		{"10.97.0.0/23", true},
		{"192.168.1.10-192.168.1.20", true},
		{"10.97.0.200-10.97.0.100", true},
		{"not-an-address", true},
	}
	for _, tc := range tests {
		t.Run(tc.addresses, func(t *testing.T) {
			t.Parallel()
			pool := &unstructured.Unstructured{Object: map[string]any{
				"metadata": map[string]any{"name": "p"},
				"spec":     map[string]any{"addresses": []any{tc.addresses}},
			}}
			err := poolWithin(pool, lb)
			if (err != nil) != tc.wantErr {
				t.Errorf("poolWithin(%q, %s): got err %v, want error %v", tc.addresses, lb, err, tc.wantErr)
			}
		})
	}
}

// TestKindCluster decodes deploy/kind/cluster.yaml exactly as kind v0.33.0 loads a config (its v1alpha4 types,
// unknown fields rejected) and checks the lab's shape. The mapped containerPort must be the NodePort of
// frontend-nodeport, or http://localhost:30080 reaches nothing.
func TestKindCluster(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join(deployDir(t), "kind", "cluster.yaml"))
	if err != nil {
		t.Fatalf("read cluster.yaml: %v", err)
	}
	cfg, err := decodeKindConfig(raw)
	if err != nil {
		t.Fatalf("decode cluster.yaml: %v", err)
	}
	set := renderSet(t, filepath.Join(deployDir(t), "overlays", "kind"))
	nodePort := service(set, "frontend-nodeport").Spec.Ports[0].NodePort

	var roles []string
	for i, n := range cfg.Nodes {
		roles = append(roles, string(n.Role))
		if !strings.HasPrefix(n.Image, "kindest/node:v") || !strings.Contains(n.Image, "@sha256:") {
			t.Errorf("node %d image got %q, want kindest/node:<version>@sha256:<digest>", i, n.Image)
		}
		if n.Image != cfg.Nodes[0].Image {
			t.Errorf("node %d image got %q, want the same image as node 0 (%q)", i, n.Image, cfg.Nodes[0].Image)
		}
		if n.Role != v1alpha4.ControlPlaneRole && len(n.ExtraPortMappings) > 0 {
			t.Errorf("node %d (%s) has extraPortMappings, want them on the control plane only", i, n.Role)
		}
	}
	got := fmt.Sprintf("kind=%s apiVersion=%s name=%s roles=%v", cfg.Kind, cfg.APIVersion, cfg.Name, roles)
	want := "kind=Cluster apiVersion=kind.x-k8s.io/v1alpha4 name=podpaths roles=[control-plane worker worker]"
	if got != want {
		t.Fatalf("cluster.yaml:\n got %s\nwant %s", got, want)
	}
	if len(cfg.KubeadmConfigPatches) != 1 || !strings.Contains(cfg.KubeadmConfigPatches[0], "kind: KubeletConfiguration") ||
		!strings.Contains(cfg.KubeadmConfigPatches[0], "failCgroupV1: false") {
		t.Errorf("kubeadmConfigPatches = %q, want the kubelet told failCgroupV1: false, so cgroup v1 hosts work", cfg.KubeadmConfigPatches)
	}
	pm := cfg.Nodes[0].ExtraPortMappings
	gotPM := fmt.Sprint(pm)
	wantPM := fmt.Sprint([]v1alpha4.PortMapping{{ContainerPort: nodePort, HostPort: 30080, ListenAddress: "127.0.0.1", Protocol: v1alpha4.PortMappingProtocolTCP}})
	if gotPM != wantPM {
		t.Errorf("control-plane extraPortMappings:\n got %s\nwant %s", gotPM, wantPM)
	}
}

// decodeKindConfig mirrors kind's own loader (sigs.k8s.io/kind/pkg/internal/apis/config/encoding), which is
// internal to kind: YAML v3 with known fields only.
func decodeKindConfig(raw []byte) (*v1alpha4.Cluster, error) {
	cfg := &v1alpha4.Cluster{}
	d := yaml.NewDecoder(bytes.NewReader(raw))
	d.KnownFields(true)
	if err := d.Decode(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

func TestDecodeKindConfigStrict(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string
	}{
		{"unknown top-level field", "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodez: []\n"},
		{"misspelled port field", "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n  extraPortMappings:\n  - containerPort: 30080\n    hostport: 30080\n"},
		{"bad protocol", "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n  extraPortMappings:\n  - containerPort: 30080\n    protocol: HTTP\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := decodeKindConfig([]byte(tc.yaml)); err == nil {
				t.Errorf("decodeKindConfig(%q): got no error, want one", tc.yaml)
			}
		})
	}
}
