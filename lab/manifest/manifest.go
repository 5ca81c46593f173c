// Package manifest renders a kustomize overlay with kustomize's own Go API
// (krusty, what `kubectl kustomize` runs) and applies the result with
// server-side apply through client-go's dynamic client, as
// `kubectl apply --server-side` would.
//
// It also puts one of deploy/'s kustomize components on a running lab and
// takes it off again (ComponentChanges, Client.ApplyChanges and
// Client.RevertChanges), touching only what the component changes.
package manifest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	yamlutil "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// FieldManager owns the fields the lab applies. Server-side apply records
// it, so a later `up` updates exactly what the lab set before.
const FieldManager = "podpaths-lab"

// Client changes objects in a cluster as one field manager.
type Client struct {
	Dynamic dynamic.Interface
	Mapper  meta.RESTMapper
	// FieldManager names the client in the objects' managedFields, e.g.
	// FieldManager for the lab; server-side apply refuses an object without
	// one. Each manager owns its own fields, so a change applied by someone
	// else stays apart from the lab's own.
	FieldManager string
}

// Render builds the kustomization in dir with kustomize's default options,
// as `kubectl apply -k` and deploy/validate do: load restrictions on, and
// objects in the order the kustomizations list them. That order matters:
// deploy/base lists the Services before the workloads, because the kubelet
// injects <SVC>_SERVICE_HOST only for Services that exist when a pod starts.
func Render(fsys filesys.FileSystem, dir string) ([]*unstructured.Unstructured, error) {
	resMap, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize %s: %w", dir, err)
	}
	var objs []*unstructured.Unstructured
	for _, r := range resMap.Resources() {
		m, err := r.Map()
		if err != nil {
			return nil, fmt.Errorf("kustomize %s: %s: %w", dir, r.CurId(), err)
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
	return objs, nil
}

// Decode splits multi-document YAML (or JSON) into objects, skipping empty
// documents: for manifests that are not a kustomization, such as the ones
// the local cluster renders for CoreDNS or MetalLB ships.
func Decode(data []byte) ([]*unstructured.Unstructured, error) {
	dec := yamlutil.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var objs []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return objs, nil
			}
			return nil, fmt.Errorf("decode: %w", err)
		}
		if len(m) == 0 {
			continue
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
}

// Apply server-side applies every object in order. Force takes over fields
// that another manager (say, a hand-run kubectl edit) set, because the
// overlay is the source of truth for the lab.
func Apply(ctx context.Context, client dynamic.Interface, mapper meta.RESTMapper, objs []*unstructured.Unstructured, applied func(string)) error {
	c := Client{Dynamic: client, Mapper: mapper, FieldManager: FieldManager}
	for _, obj := range objs {
		if err := c.apply(ctx, obj); err != nil {
			return err
		}
		applied(describe(obj))
	}
	return nil
}

// apply server-side applies one object, forced (see Apply).
func (c Client) apply(ctx context.Context, obj *unstructured.Unstructured) error {
	ri, err := resourceFor(c.Dynamic, c.Mapper, obj)
	if err != nil {
		return err
	}
	_, err = ri.Apply(ctx, obj.GetName(), obj, metav1.ApplyOptions{FieldManager: c.FieldManager, Force: true})
	if err != nil {
		return fmt.Errorf("apply %s: %w", describe(obj), err)
	}
	return nil
}

// resourceFor maps an object's kind to its API resource, namespaced or not.
func resourceFor(client dynamic.Interface, mapper meta.RESTMapper, obj *unstructured.Unstructured) (dynamic.ResourceInterface, error) {
	gvk := obj.GroupVersionKind()
	mapping, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if r, ok := mapper.(meta.ResettableRESTMapper); ok && meta.IsNoMatchError(err) {
		// A kind that an earlier object (a CRD) just added is unknown to
		// the cached discovery until it is read again.
		r.Reset()
		mapping, err = mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	}
	if err != nil {
		return nil, fmt.Errorf("map %s: %w", describe(obj), err)
	}
	if mapping.Scope.Name() != meta.RESTScopeNameNamespace {
		return client.Resource(mapping.Resource), nil
	}
	if obj.GetNamespace() == "" {
		// The overlays set `namespace:`; an object without one is a bug in
		// them, and applying it to "default" would hide that.
		return nil, fmt.Errorf("%s has no namespace", describe(obj))
	}
	return client.Resource(mapping.Resource).Namespace(obj.GetNamespace()), nil
}

// describe names an object as kubectl prints it: kind/name, with the namespace.
func describe(obj *unstructured.Unstructured) string {
	s := obj.GetKind() + "/" + obj.GetName()
	if ns := obj.GetNamespace(); ns != "" {
		s = ns + " " + s
	}
	return s
}
