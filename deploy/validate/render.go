// Package validate renders podpaths' kustomize tree (deploy/) and checks what a cluster would receive.
//
// Two layers, as the API server itself would apply them and then some:
//   - Decode reads every rendered object strictly into the k8s.io/api types, so a misspelled or misplaced field
//     fails here instead of being silently dropped by `kubectl apply`.
//   - The Check functions test meaning the API server does not check but the lab relies on: Service selectors that
//     select something, named target ports that exist, Pod Security "restricted" on every container, pinned
//     images, drain budgets that fit in the grace period.
package validate

import (
	"fmt"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// Render builds the kustomization in dir as `kubectl apply -k dir` would and returns the multi-document YAML.
// The default options keep kustomize's load restrictions: files must sit inside the kustomization's own
// directory, while other kustomizations (bases, components, ../../nginx) may live anywhere.
func Render(dir string) ([]byte, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	out, err := m.AsYaml()
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: encode: %w", dir, err)
	}
	return out, nil
}
