package manifest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// Change is what a component does to one object.
type Change struct {
	// Object is the object as the component renders it.
	Object *unstructured.Unstructured
	// New means the base has no such object: applying creates it,
	// reverting deletes it.
	New bool
	// Patch turns the base's object into the component's; Inverse turns
	// it back. Strategic merge patches: lists such as containers and env
	// merge by name, so an overlay's own settings survive.
	Patch, Inverse []byte
}

// Describe names the change, e.g. "Deployment podpaths/frontend: {...}".
func (c Change) Describe() string {
	s := c.Object.GetKind() + " " + c.Object.GetNamespace() + "/" + c.Object.GetName()
	if c.New {
		return s + " (new)"
	}
	return s + ": " + string(c.Patch)
}

// ComponentChanges returns what the component deployDir/components/<name>
// changes. The component is rendered twice, deploy/base alone and
// deploy/base with the component; the difference, as strategic merge patches
// and new objects, is what Client.ApplyChanges applies. So it works whichever
// overlay the cluster runs (kind's, the local one, a user's own) and leaves
// every other field alone, and the inverse patches restore exactly the
// base's values.
func ComponentChanges(deployDir, name string) ([]Change, error) {
	base, err := renderComponent(deployDir, "")
	if err != nil {
		return nil, err
	}
	with, err := renderComponent(deployDir, name)
	if err != nil {
		return nil, err
	}
	changes, err := diff(base, with)
	if err != nil {
		return nil, fmt.Errorf("component %s: %w", name, err)
	}
	if len(changes) == 0 {
		return nil, fmt.Errorf("component %s changes nothing", name)
	}
	return changes, nil
}

// renderComponent renders deploy/base with the named component on top
// (component "" renders the base alone), through a kustomization written to
// a temporary directory: a component has no kustomization of its own to
// render.
func renderComponent(deployDir, component string) ([]*unstructured.Unstructured, error) {
	abs, err := filepath.Abs(deployDir)
	if err != nil {
		return nil, fmt.Errorf("deploy dir: %w", err)
	}
	dir, err := os.MkdirTemp("", "podpaths-component-")
	if err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	defer os.RemoveAll(dir) //nolint:errcheck // a temporary directory
	// kustomize takes only relative paths to other kustomizations.
	base, err := filepath.Rel(dir, filepath.Join(abs, "base"))
	if err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	k := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - " + base + "\n"
	if component != "" {
		c, err := filepath.Rel(dir, filepath.Join(abs, "components", component))
		if err != nil {
			return nil, fmt.Errorf("render: %w", err)
		}
		k += "components:\n  - " + c + "\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(k), 0o600); err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	objs, err := Render(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("base + component %q: %w", component, err)
	}
	return objs, nil
}

// diff compares two renderings object by object. Objects only in base are
// not expected from a component and are an error.
func diff(base, with []*unstructured.Unstructured) ([]Change, error) {
	byKey := map[string]*unstructured.Unstructured{}
	for _, o := range base {
		byKey[key(o)] = o
	}
	var changes []Change
	for _, o := range with {
		b, ok := byKey[key(o)]
		delete(byKey, key(o))
		if !ok {
			changes = append(changes, Change{Object: o, New: true})
			continue
		}
		c, err := diffObject(b, o)
		if err != nil {
			return nil, err
		}
		if c != nil {
			changes = append(changes, *c)
		}
	}
	if len(byKey) > 0 {
		return nil, fmt.Errorf("the component removes objects: %v", slices.Sorted(maps.Keys(byKey)))
	}
	return changes, nil
}

func key(o *unstructured.Unstructured) string {
	return o.GroupVersionKind().GroupKind().String() + " " + o.GetNamespace() + "/" + o.GetName()
}

// diffObject returns the change from b to o, or nil when they are equal.
func diffObject(b, o *unstructured.Unstructured) (*Change, error) {
	if reflect.DeepEqual(b.Object, o.Object) {
		// Compared first because some fields (a PodDisruptionBudget's
		// selector) are patched by replacement, which yields a patch even
		// between equal objects.
		return nil, nil
	}
	data, err := scheme.Scheme.New(o.GroupVersionKind())
	if err != nil {
		return nil, fmt.Errorf("%s: no Go type for a strategic merge patch: %w", key(o), err)
	}
	bj, err := json.Marshal(b.Object)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key(o), err)
	}
	oj, err := json.Marshal(o.Object)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key(o), err)
	}
	patch, err := twoWay(bj, oj, data)
	if err != nil {
		return nil, fmt.Errorf("%s: patch: %w", key(o), err)
	}
	inverse, err := twoWay(oj, bj, data)
	if err != nil {
		return nil, fmt.Errorf("%s: inverse patch: %w", key(o), err)
	}
	return &Change{Object: o, Patch: patch, Inverse: inverse}, nil
}

// twoWay is a strategic merge patch from a to b without its
// $setElementOrder directives: those would reorder the live object's lists
// (containers, env) to the rendering's order, a change the component does
// not make. Without them new items are appended and the rest keep their
// place.
func twoWay(a, b []byte, data any) ([]byte, error) {
	patch, err := strategicpatch.CreateTwoWayMergePatch(a, b, data)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(patch, &m); err != nil {
		return nil, err
	}
	dropOrder(m)
	return json.Marshal(m)
}

// dropOrder removes $setElementOrder keys at every depth.
func dropOrder(v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, sub := range v {
			if strings.HasPrefix(k, "$setElementOrder/") {
				delete(v, k)
				continue
			}
			dropOrder(sub)
		}
	case []any:
		for _, sub := range v {
			dropOrder(sub)
		}
	}
}

// ApplyChanges patches every changed object and creates every new one. A
// changed object gets only its patch, not the whole rendered object: that
// would also set every field of deploy/base, over what the overlay that the
// cluster runs changed.
func (c Client) ApplyChanges(ctx context.Context, changes []Change) error {
	for _, ch := range changes {
		if ch.New {
			if err := c.apply(ctx, ch.Object); err != nil {
				return err
			}
			continue
		}
		if err := c.patch(ctx, ch.Object, ch.Patch); err != nil {
			return fmt.Errorf("apply %s: %w", ch.Describe(), err)
		}
	}
	return nil
}

// RevertChanges undoes ApplyChanges, last change first: inverse patches, and
// deletes what it created. It tries every change and reports all errors, so
// that one failure leaves as little of the component behind as it can.
func (c Client) RevertChanges(ctx context.Context, changes []Change) error {
	var errs []error
	for _, ch := range slices.Backward(changes) {
		var err error
		if ch.New {
			err = c.delete(ctx, ch.Object)
		} else {
			err = c.patch(ctx, ch.Object, ch.Inverse)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("revert %s: %w", ch.Describe(), err))
		}
	}
	return errors.Join(errs...)
}

// patch applies a strategic merge patch to the live object.
func (c Client) patch(ctx context.Context, obj *unstructured.Unstructured, patch []byte) error {
	ri, err := resourceFor(c.Dynamic, c.Mapper, obj)
	if err != nil {
		return err
	}
	_, err = ri.Patch(ctx, obj.GetName(), types.StrategicMergePatchType, patch, metav1.PatchOptions{FieldManager: c.FieldManager})
	return err
}

// delete deletes the live object; one already gone is what was wanted.
func (c Client) delete(ctx context.Context, obj *unstructured.Unstructured) error {
	ri, err := resourceFor(c.Dynamic, c.Mapper, obj)
	if err != nil {
		return err
	}
	if err := ri.Delete(ctx, obj.GetName(), metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	return nil
}
