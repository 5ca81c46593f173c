package manifest

import (
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// overlay is a miniature of deploy/: a base with a Service and a Deployment
// that includes the repository's nginx/ kustomization (its
// configMapGenerator), and an overlay that sets the namespace and adds the
// Namespace first.
func overlay(t *testing.T) filesys.FileSystem {
	t.Helper()
	fs := filesys.MakeFsInMemory()
	files := map[string]string{
		"/repo/nginx/default.conf.template": "server { listen 8080; }\n",
		"/repo/nginx/kustomization.yaml": `configMapGenerator:
- name: nginx
  files: [default.conf.template]
`,
		"/repo/deploy/base/kustomization.yaml": `resources: [../../nginx, service.yaml, deployment.yaml]
`,
		"/repo/deploy/base/service.yaml": `apiVersion: v1
kind: Service
metadata: {name: frontend}
spec: {type: LoadBalancer, ports: [{port: 80, targetPort: http}]}
`,
		"/repo/deploy/base/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: frontend}
spec:
  template:
    spec:
      volumes: [{name: conf, configMap: {name: nginx}}]
`,
		"/repo/deploy/overlays/kind/kustomization.yaml": `namespace: podpaths
resources: [namespace.yaml, ../../base]
`,
		"/repo/deploy/overlays/kind/namespace.yaml": `apiVersion: v1
kind: Namespace
metadata: {name: podpaths}
`,
	}
	for name, content := range files {
		if err := fs.WriteFile(name, []byte(content)); err != nil {
			t.Fatalf("write %s: %v", name, err)
		}
	}
	return fs
}

func TestRender(t *testing.T) {
	t.Parallel()
	objs, err := Render(overlay(t), "/repo/deploy/overlays/kind")
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	var got []string
	for _, o := range objs {
		got = append(got, describe(o))
	}
	// The order the kustomizations list: Namespace, ConfigMap, Service, Deployment.
	if len(got) != 4 || got[0] != "Namespace/podpaths" || !strings.HasPrefix(got[1], "podpaths ConfigMap/nginx-") ||
		got[2] != "podpaths Service/frontend" || got[3] != "podpaths Deployment/frontend" {
		t.Fatalf("Render: got %q, want Namespace, ConfigMap nginx-<hash>, Service, Deployment in podpaths", got)
	}
	// The generator's hashed name must reach the Deployment that mounts it.
	vols, _, _ := unstructured.NestedSlice(objs[3].Object, "spec", "template", "spec", "volumes")
	cm, _, _ := unstructured.NestedString(vols[0].(map[string]any), "configMap", "name")
	if cm != objs[1].GetName() {
		t.Errorf("deployment mounts %q, want the generated %q", cm, objs[1].GetName())
	}
}

func TestRenderError(t *testing.T) {
	t.Parallel()
	if _, err := Render(overlay(t), "/repo/deploy/overlays/missing"); err == nil {
		t.Fatal("Render of a missing overlay: got no error")
	}
}

func TestDecode(t *testing.T) {
	t.Parallel()
	objs, err := Decode([]byte("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n# only a comment\n---\n" +
		`{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "b"}}` + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range objs {
		got = append(got, o.GetKind()+"/"+o.GetName())
	}
	if want := []string{"ConfigMap/a", "Service/b"}; !slices.Equal(got, want) {
		t.Errorf("Decode: %v, want %v (empty documents skipped)", got, want)
	}
	if _, err := Decode([]byte("kind: [unclosed\n")); err == nil {
		t.Error("Decode of broken YAML: got no error")
	}
}

func TestApply(t *testing.T) {
	t.Parallel()
	objs, err := Render(overlay(t), "/repo/deploy/overlays/kind")
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	client := dynamicfake.NewSimpleDynamicClient(runtime.NewScheme())
	type call struct{ resource, namespace, name, manager string }
	var calls []call
	client.PrependReactor("patch", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
		pa := a.(k8stesting.PatchActionImpl)
		if pa.GetPatchType() != types.ApplyPatchType || pa.PatchOptions.Force == nil || !*pa.PatchOptions.Force {
			t.Errorf("patch %s: got type %s force %v, want a forced server-side apply", pa.Name, pa.GetPatchType(), pa.PatchOptions.Force)
		}
		calls = append(calls, call{pa.GetResource().Resource, pa.GetNamespace(), pa.Name, pa.PatchOptions.FieldManager})
		return true, &unstructured.Unstructured{Object: map[string]any{}}, nil
	})
	var applied []string
	if err := Apply(t.Context(), client, testMapper(), objs, func(s string) { applied = append(applied, s) }); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	want := []call{
		{"namespaces", "", "podpaths", FieldManager},
		{"configmaps", "podpaths", objs[1].GetName(), FieldManager},
		{"services", "podpaths", "frontend", FieldManager},
		{"deployments", "podpaths", "frontend", FieldManager},
	}
	if !slices.Equal(calls, want) {
		t.Errorf("apply calls:\n got %v\nwant %v", calls, want)
	}
	if len(applied) != 4 || applied[0] != "Namespace/podpaths" {
		t.Errorf("applied callback: got %q", applied)
	}
}

func TestApplyErrors(t *testing.T) {
	t.Parallel()
	client := dynamicfake.NewSimpleDynamicClient(runtime.NewScheme())
	unknown := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "example.com/v1", "kind": "Widget", "metadata": map[string]any{"name": "w", "namespace": "podpaths"},
	}}
	noNamespace := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Service", "metadata": map[string]any{"name": "frontend"},
	}}
	for _, obj := range []*unstructured.Unstructured{unknown, noNamespace} {
		if err := Apply(t.Context(), client, testMapper(), []*unstructured.Unstructured{obj}, func(string) {}); err == nil {
			t.Errorf("Apply(%s): got no error", describe(obj))
		}
	}
}

func testMapper() meta.RESTMapper {
	m := meta.NewDefaultRESTMapper(nil)
	m.Add(schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}, meta.RESTScopeRoot)
	m.Add(schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, meta.RESTScopeNamespace)
	m.Add(schema.GroupVersionKind{Version: "v1", Kind: "Service"}, meta.RESTScopeNamespace)
	m.Add(schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, meta.RESTScopeNamespace)
	return m
}
