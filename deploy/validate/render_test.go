package validate_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/podpaths/podpaths/deploy/validate"
)

// components lists every directory under deploy/components; TestComponentsListed keeps it complete.
var components = []string{
	"internal-traffic-local",
	"external-traffic-local",
	"no-service-links",
	"native-sidecar",
	"network-policy",
}

// overlays lists each overlay with the imagePullPolicy its environment needs and whether every subset of the
// components is rendered on top of it. The local overlay differs from kind only in its pull policy patch, so it
// gets no components and all of them; 2^5 subsets of both would double the run time (about 40s with -race on
// two cores) without covering more.
var overlays = []struct {
	name       string
	pull       corev1.PullPolicy
	allSubsets bool
}{
	{"kind", corev1.PullIfNotPresent, true},
	{"local", corev1.PullNever, false},
}

// deployDir is the deploy/ directory, the parent of this package.
func deployDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("..")
	if err != nil {
		t.Fatalf("deploy dir: %v", err)
	}
	return dir
}

// renderSet renders a kustomization directory and decodes it strictly.
func renderSet(t *testing.T, dir string) *validate.Set {
	t.Helper()
	out, err := validate.Render(dir)
	if err != nil {
		t.Fatalf("Render(%s): %v", dir, err)
	}
	set, err := validate.Decode(out)
	if err != nil {
		t.Fatalf("Decode(render of %s): %v", dir, err)
	}
	return set
}

// combine writes a kustomization that puts comps on top of overlay, as a user's own overlay would, and returns
// its directory. kustomize refuses absolute paths, hence the relative ones.
func combine(t *testing.T, overlay string, comps []string) string {
	t.Helper()
	dir := t.TempDir()
	rel, err := filepath.Rel(dir, deployDir(t))
	if err != nil {
		t.Fatalf("relative path to deploy/: %v", err)
	}
	var b strings.Builder
	b.WriteString("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n")
	fmt.Fprintf(&b, "  - %s\n", filepath.ToSlash(filepath.Join(rel, "overlays", overlay)))
	b.WriteString("components:\n")
	for _, c := range comps {
		fmt.Fprintf(&b, "  - %s\n", filepath.ToSlash(filepath.Join(rel, "components", c)))
	}
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(b.String()), 0o600); err != nil {
		t.Fatalf("write kustomization: %v", err)
	}
	return dir
}

// subsets returns every subset of items, the empty one first, each in the order of items.
func subsets(items []string) [][]string {
	out := make([][]string, 0, 1<<len(items))
	for mask := range 1 << len(items) {
		var s []string
		for i, item := range items {
			if mask&(1<<i) != 0 {
				s = append(s, item)
			}
		}
		out = append(out, s)
	}
	return out
}

// combinations returns the component sets to render on an overlay: every subset, or none and all.
func combinations(allSubsets bool) [][]string {
	if allSubsets {
		return subsets(components)
	}
	return [][]string{nil, components}
}

// TestRenderedTrees renders the overlays with combinations of the components (34 trees), decodes each result
// strictly and runs every check, then checks that each component did exactly its job and nothing when off.
func TestRenderedTrees(t *testing.T) {
	t.Parallel()
	for _, overlay := range overlays {
		for _, comps := range combinations(overlay.allSubsets) {
			name := overlay.name + "+" + strings.Join(comps, "+")
			if len(comps) == 0 {
				name = overlay.name
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				dir := filepath.Join(deployDir(t), "overlays", overlay.name)
				if len(comps) > 0 {
					dir = combine(t, overlay.name, comps)
				}
				set := renderSet(t, dir)
				for _, c := range validate.Checks() {
					for _, err := range c.Run(set) {
						t.Errorf("%s: %v", c.Name, err)
					}
				}
				assertPullPolicy(t, set, overlay.pull)
				on := map[string]bool{}
				for _, c := range comps {
					on[c] = true
				}
				for _, c := range components {
					componentEffects[c](t, set, on[c])
				}
			})
		}
	}
}

func assertPullPolicy(t *testing.T, set *validate.Set, want corev1.PullPolicy) {
	t.Helper()
	for _, spec := range podSpecs(set) {
		for _, c := range append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...) {
			if c.ImagePullPolicy != want {
				t.Errorf("container %q: imagePullPolicy got %q, want %q", c.Name, c.ImagePullPolicy, want)
			}
		}
	}
}

func podSpecs(set *validate.Set) []*corev1.PodSpec {
	var out []*corev1.PodSpec
	for _, d := range set.Deployments {
		out = append(out, &d.Spec.Template.Spec)
	}
	for _, st := range set.StatefulSets {
		out = append(out, &st.Spec.Template.Spec)
	}
	return out
}

// componentEffects checks one component's effect on a rendered tree, with the component on or off.
var componentEffects = map[string]func(t *testing.T, set *validate.Set, on bool){
	"internal-traffic-local": func(t *testing.T, set *validate.Set, on bool) {
		t.Helper()
		svc := service(set, "backend-local")
		if (svc != nil) != on {
			t.Fatalf("internal-traffic-local on=%v: Service backend-local present=%v", on, svc != nil)
		}
		if on && (svc.Spec.InternalTrafficPolicy == nil || *svc.Spec.InternalTrafficPolicy != corev1.ServiceInternalTrafficPolicyLocal) {
			t.Errorf("Service backend-local internalTrafficPolicy got %v, want Local", svc.Spec.InternalTrafficPolicy)
		}
		got, _ := env(container(t, frontend(t, set).Spec.Template.Spec.Containers, "frontend"), "PODPATHS_LOCAL_SERVICE")
		if want := map[bool]string{true: "backend-local", false: ""}[on]; got != want {
			t.Errorf("internal-traffic-local on=%v: frontend PODPATHS_LOCAL_SERVICE got %q, want %q", on, got, want)
		}
	},
	"external-traffic-local": func(t *testing.T, set *validate.Set, on bool) {
		t.Helper()
		want := map[bool]corev1.ServiceExternalTrafficPolicy{true: corev1.ServiceExternalTrafficPolicyLocal, false: corev1.ServiceExternalTrafficPolicyCluster}[on]
		for _, name := range []string{"frontend", "frontend-nodeport"} {
			svc := service(set, name)
			if svc == nil {
				t.Fatalf("Service %s missing", name)
			}
			if svc.Spec.ExternalTrafficPolicy != want {
				t.Errorf("external-traffic-local on=%v: Service %s externalTrafficPolicy got %q, want %q", on, name, svc.Spec.ExternalTrafficPolicy, want)
			}
		}
	},
	"no-service-links": func(t *testing.T, set *validate.Set, on bool) {
		t.Helper()
		// Explicit either way: the base sets true so that the component has a value to flip.
		if spec := frontend(t, set).Spec.Template.Spec; spec.EnableServiceLinks == nil || *spec.EnableServiceLinks == on {
			t.Errorf("no-service-links on=%v: frontend enableServiceLinks got %v, want explicit %v", on, ptrString(spec.EnableServiceLinks), !on)
		}
		// The backend finds no peer by its variables, so the component leaves it (and its rollout) alone.
		if spec := backend(t, set).Spec.Template.Spec; spec.EnableServiceLinks == nil || !*spec.EnableServiceLinks {
			t.Errorf("no-service-links on=%v: backend enableServiceLinks got %v, want explicit true", on, ptrString(spec.EnableServiceLinks))
		}
	},
	"native-sidecar": func(t *testing.T, set *validate.Set, on bool) {
		t.Helper()
		spec := backend(t, set).Spec.Template.Spec
		got := fmt.Sprintf("init=%v containers=%v", names(spec.InitContainers), names(spec.Containers))
		want := "init=[] containers=[backend sidecar]"
		if on {
			want = "init=[sidecar] containers=[backend]"
		}
		if got != want {
			t.Fatalf("native-sidecar on=%v: backend pod got %s, want %s", on, got, want)
		}
		if on {
			rp := spec.InitContainers[0].RestartPolicy
			if rp == nil || *rp != corev1.ContainerRestartPolicyAlways {
				t.Errorf("native-sidecar: init container sidecar restartPolicy got %v, want Always", ptrString(rp))
			}
		}
	},
	"network-policy": func(t *testing.T, set *validate.Set, on bool) {
		t.Helper()
		var got []string
		for _, np := range set.NetworkPolicies {
			got = append(got, np.Name)
		}
		want := "[]"
		if on {
			want = "[default-deny allow-dns frontend backend]"
		}
		if fmt.Sprint(got) != want {
			t.Errorf("network-policy on=%v: NetworkPolicies got %v, want %s", on, got, want)
		}
	},
}

func ptrString[T any](p *T) string {
	if p == nil {
		return "<unset>"
	}
	return fmt.Sprint(*p)
}

func service(set *validate.Set, name string) *corev1.Service {
	for _, svc := range set.Services {
		if svc.Name == name {
			return svc
		}
	}
	return nil
}

func frontend(t *testing.T, set *validate.Set) *appsv1.Deployment {
	t.Helper()
	for _, d := range set.Deployments {
		if d.Name == "frontend" {
			return d
		}
	}
	t.Fatal("Deployment frontend missing")
	return nil
}

func backend(t *testing.T, set *validate.Set) *appsv1.StatefulSet {
	t.Helper()
	for _, st := range set.StatefulSets {
		if st.Name == "backend" {
			return st
		}
	}
	t.Fatal("StatefulSet backend missing")
	return nil
}

func container(t *testing.T, cs []corev1.Container, name string) *corev1.Container {
	t.Helper()
	for i := range cs {
		if cs[i].Name == name {
			return &cs[i]
		}
	}
	t.Fatalf("container %q missing from %v", name, names(cs))
	return nil
}

// env returns the literal value of a variable and whether the container sets it.
func env(c *corev1.Container, name string) (string, bool) {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value, true
		}
	}
	return "", false
}

func names(cs []corev1.Container) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

// TestComponentsListed keeps the list above equal to the directories, so a new component is rendered too.
func TestComponentsListed(t *testing.T) {
	t.Parallel()
	entries, err := os.ReadDir(filepath.Join(deployDir(t), "components"))
	if err != nil {
		t.Fatalf("read components: %v", err)
	}
	var got []string
	for _, e := range entries {
		if e.IsDir() {
			got = append(got, e.Name())
		}
	}
	want := slices.Sorted(slices.Values(components))
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("deploy/components: got %v, want %v (update the components list in this test)", got, want)
	}
	for _, c := range components {
		if componentEffects[c] == nil {
			t.Errorf("component %q has no entry in componentEffects", c)
		}
	}
}
