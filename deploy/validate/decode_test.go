package validate_test

import (
	"strings"
	"testing"

	"github.com/podpaths/podpaths/deploy/validate"
)

// TestDecodeStrict checks that Decode rejects what `kubectl apply` would silently drop or the API server reject,
// and accepts the custom kinds it knows.
func TestDecodeStrict(t *testing.T) {
	t.Parallel()
	const svc = "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  namespace: lab\nspec:\n  selector: {a: b}\n  ports: [{name: http, port: 80, targetPort: http}]\n"
	tests := []struct {
		name    string
		yaml    string
		wantErr string
	}{
		{"valid Service", svc, ""},
		{"empty documents are skipped", "---\n" + svc + "---\n\n---\n", ""},
		{"unknown field", strings.Replace(svc, "  selector:", "  selectr:", 1), `unknown field "spec.selectr"`},
		{"field at the wrong level", strings.Replace(svc, "  name: s\n", "  name: s\n  type: NodePort\n", 1), `unknown field "metadata.type"`},
		{"duplicate field", strings.Replace(svc, "  name: s\n", "  name: s\n  name: t\n", 1), `"name" already set`},
		{"wrong type", strings.Replace(svc, "port: 80,", "port: eighty,", 1), "cannot unmarshal"},
		{"misspelled probe in a Deployment", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec:\n      containers:\n      - name: c\n        image: i:1\n        readinesProbe: {httpGet: {port: 80}}\n",
			`unknown field "spec.template.spec.containers[0].readinesProbe"`},
		{"known kind the tree must not contain", "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n", "is not expected in deploy/"},
		{"unknown kind", "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n", "neither in k8s.io/api nor in CustomKinds"},
		{"custom kind in the wrong version", "apiVersion: metallb.io/v1alpha1\nkind: IPAddressPool\nmetadata: {name: p}\n", "neither in k8s.io/api nor in CustomKinds"},
		{"custom kind without a name", "apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nspec: {addresses: [10.97.0.1/32]}\n", "has no metadata.name"},
		{"custom kind", "apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: p, namespace: metallb-system}\nspec: {addresses: [10.97.0.1/32]}\n", ""},
		{"not YAML", "apiVersion: v1\nkind: [\n", "document 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := validate.Decode([]byte(tc.yaml))
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("Decode(%q): got error %v, want none", tc.yaml, err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("Decode(%q): got error %v, want one containing %q", tc.yaml, err, tc.wantErr)
			}
		})
	}
}

// TestDecodeSortsByKind checks that each object lands in its slot of the Set.
func TestDecodeSortsByKind(t *testing.T) {
	t.Parallel()
	set, err := validate.Decode([]byte(fixture))
	if err != nil {
		t.Fatalf("Decode(fixture): %v", err)
	}
	got := []int{len(set.Namespaces), len(set.ConfigMaps), len(set.Deployments), len(set.StatefulSets),
		len(set.Services), len(set.PodDisruptionBudgets), len(set.NetworkPolicies), len(set.Custom)}
	want := []int{1, 1, 1, 1, 5, 2, 1, 0}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Decode(fixture) counts [ns cm deploy sts svc pdb netpol custom]: got %v, want %v", got, want)
		}
	}
}
