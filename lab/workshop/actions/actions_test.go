package actions

import "testing"

func TestKustomization(t *testing.T) {
	t.Parallel()
	k := Kustomize{Components: []string{"native-sidecar"}, Patches: []Patch{
		{Body: "apiVersion: v1\nkind: Service\nmetadata:\n  name: backend"},
		{Target: "kind: Deployment\nname: frontend", Body: "- op: replace\n  path: /x\n  value: y"},
	}}
	got := k.kustomization("deploy/overlays/local")
	want := `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../../deploy/overlays/local
components:
  - ../../deploy/components/native-sidecar
patches:
  - patch: |-
      apiVersion: v1
      kind: Service
      metadata:
        name: backend
  - target:
      kind: Deployment
      name: frontend
    patch: |-
      - op: replace
        path: /x
        value: y
`
	if got != want {
		t.Errorf("kustomization =\n%s\nwant\n%s", got, want)
	}
}
