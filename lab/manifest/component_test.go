package manifest

import (
	"slices"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"
)

// The tests render the repository's real deploy/ directory, so they also
// pin what each component the e2e suite uses changes.

func TestChangesOfNoServiceLinks(t *testing.T) {
	t.Parallel()
	changes, err := ComponentChanges("../../deploy", "no-service-links")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range changes {
		if c.New {
			t.Errorf("unexpected new object %s", c.Describe())
		}
		got[c.Object.GetKind()+"/"+c.Object.GetName()] = string(c.Patch) + " <-> " + string(c.Inverse)
	}
	want := `{"spec":{"template":{"spec":{"enableServiceLinks":false}}}} <-> {"spec":{"template":{"spec":{"enableServiceLinks":true}}}}`
	if got["Deployment/frontend"] != want {
		t.Errorf("Deployment/frontend: patch <-> inverse = %q, want %q", got["Deployment/frontend"], want)
	}
	if len(got) != 1 {
		t.Errorf("changed objects = %v, want only the frontend's Deployment", got)
	}
}

func TestChangesOfExternalTrafficLocal(t *testing.T) {
	t.Parallel()
	changes, err := ComponentChanges("../../deploy", "external-traffic-local")
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 2 {
		t.Fatalf("got %d changes, want the two outside Services", len(changes))
	}
	for _, c := range changes {
		if c.Object.GetKind() != "Service" || string(c.Patch) != `{"spec":{"externalTrafficPolicy":"Local"}}` ||
			string(c.Inverse) != `{"spec":{"externalTrafficPolicy":"Cluster"}}` {
			t.Errorf("change %s, inverse %s; want Service externalTrafficPolicy Local <-> Cluster", c.Describe(), c.Inverse)
		}
	}
}

func TestChangesOfInternalTrafficLocal(t *testing.T) {
	t.Parallel()
	changes, err := ComponentChanges("../../deploy", "internal-traffic-local")
	if err != nil {
		t.Fatal(err)
	}
	var created, patched []string
	for _, c := range changes {
		if c.New {
			created = append(created, c.Object.GetKind()+"/"+c.Object.GetName())
		} else {
			patched = append(patched, c.Object.GetKind()+"/"+c.Object.GetName()+" "+string(c.Patch))
		}
	}
	if strings.Join(created, ",") != "Service/backend-local" {
		t.Errorf("new objects = %q, want Service/backend-local", created)
	}
	// Containers and env merge by name: the patch adds one variable to the
	// frontend container and names nothing else.
	want := `Deployment/frontend {"spec":{"template":{"spec":{"containers":[{"env":[{"name":"PODPATHS_LOCAL_SERVICE","value":"backend-local"}],"name":"frontend"}]}}}}`
	if len(patched) != 1 || patched[0] != want {
		t.Errorf("patched = %q, want only %q", patched, want)
	}
}

func TestDiffRejectsARemovedObject(t *testing.T) {
	t.Parallel()
	base, err := renderComponent("../../deploy", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := diff(base, base[1:]); err == nil || !strings.Contains(err.Error(), "removes objects") {
		t.Errorf("diff with an object missing: err = %v, want one about removed objects", err)
	}
	if changes, err := diff(base, base); err != nil || len(changes) != 0 {
		t.Errorf("diff of a rendering with itself = %v, %v; want nothing", changes, err)
	}
}

// TestApplyAndRevertChanges checks the calls: a changed object is patched
// both ways, a new one applied and then deleted (already gone is fine), the
// revert goes last change first, and every call names the client's field
// manager.
func TestApplyAndRevertChanges(t *testing.T) {
	t.Parallel()
	obj := func(apiVersion, kind, name string) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": apiVersion, "kind": kind, "metadata": map[string]any{"name": name, "namespace": "podpaths"},
		}}
	}
	changes := []Change{
		{Object: obj("apps/v1", "Deployment", "frontend"), Patch: []byte(`{"patch":1}`), Inverse: []byte(`{"inverse":1}`)},
		{Object: obj("v1", "Service", "backend-local"), New: true},
	}
	client := dynamicfake.NewSimpleDynamicClient(runtime.NewScheme())
	// call is one request; body only for a strategic merge patch (an
	// apply's body is the whole object).
	type call struct {
		verb, resource, namespace, name string
		patchType                       types.PatchType
		manager                         string
		force                           bool
		body                            string
	}
	var calls []call
	client.PrependReactor("patch", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
		pa := a.(k8stesting.PatchActionImpl)
		c := call{verb: "patch", resource: pa.GetResource().Resource, namespace: pa.GetNamespace(), name: pa.Name,
			patchType: pa.GetPatchType(), manager: pa.PatchOptions.FieldManager, force: pa.PatchOptions.Force != nil && *pa.PatchOptions.Force}
		if c.patchType == types.StrategicMergePatchType {
			c.body = string(pa.GetPatch())
		}
		calls = append(calls, c)
		return true, &unstructured.Unstructured{Object: map[string]any{}}, nil
	})
	client.PrependReactor("delete", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
		da := a.(k8stesting.DeleteActionImpl)
		calls = append(calls, call{verb: "delete", resource: da.GetResource().Resource, namespace: da.GetNamespace(), name: da.Name})
		return true, nil, apierrors.NewNotFound(schema.GroupResource{Resource: da.GetResource().Resource}, da.Name)
	})
	c := Client{Dynamic: client, Mapper: testMapper(), FieldManager: "podpaths-e2e"}
	if err := c.ApplyChanges(t.Context(), changes); err != nil {
		t.Fatalf("ApplyChanges: %v", err)
	}
	if err := c.RevertChanges(t.Context(), changes); err != nil {
		t.Fatalf("RevertChanges: %v", err)
	}
	want := []call{
		{"patch", "deployments", "podpaths", "frontend", types.StrategicMergePatchType, "podpaths-e2e", false, `{"patch":1}`},
		{"patch", "services", "podpaths", "backend-local", types.ApplyPatchType, "podpaths-e2e", true, ""},
		{"delete", "services", "podpaths", "backend-local", "", "", false, ""},
		{"patch", "deployments", "podpaths", "frontend", types.StrategicMergePatchType, "podpaths-e2e", false, `{"inverse":1}`},
	}
	if !slices.Equal(calls, want) {
		t.Errorf("calls:\n got %+v\nwant %+v", calls, want)
	}
}
