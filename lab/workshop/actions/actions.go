// Package actions holds what an exercise's steps do to the lab, each as a
// workshop.Action: the change itself (Run) and the command a participant
// would type for it (Command), which docs/workshop.md shows. Most are one
// kubectl command; the rest (faults.go) stop daemons, kill a sidecar, put a
// steady load on the lab while something else happens, or change what the
// outside client can reach.
package actions

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podpaths/podpaths/lab/manifest"
	"github.com/podpaths/podpaths/lab/rollout"
	"github.com/podpaths/podpaths/lab/workshop"
)

// exerciseDir is where the runner writes an exercise's kustomization, the
// same place the docs tell a participant to write it by hand (_output/ is
// ignored by git).
const exerciseDir = "_output/exercise"

// Kustomize applies the lab's overlay with components and patches on top,
// the way the lab applies its overlay: server-side apply as the lab's field
// manager. A later apply of the overlay alone takes every change back,
// except the objects it added, which the reset deletes.
type Kustomize struct {
	Components []string
	// Patches are kustomize patches (strategic merge or JSON 6902 with a
	// target), as YAML.
	Patches []Patch
}

// Patch is one kustomize patch.
type Patch struct {
	// Target selects the object for a JSON 6902 patch, e.g.
	// "kind: Deployment\n  name: frontend"; empty for a strategic merge
	// patch, which names its object itself.
	Target string
	Body   string
}

// kustomization is the file Kustomize writes, for an overlay given
// relative to the repository.
func (k Kustomize) kustomization(overlay string) string {
	var b strings.Builder
	b.WriteString("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n")
	b.WriteString("  - ../../" + overlay + "\n")
	if len(k.Components) > 0 {
		b.WriteString("components:\n")
		for _, c := range k.Components {
			b.WriteString("  - ../../deploy/components/" + c + "\n")
		}
	}
	if len(k.Patches) > 0 {
		b.WriteString("patches:\n")
		for _, p := range k.Patches {
			if p.Target != "" {
				b.WriteString("  - target:\n      " + indent(p.Target, "      ") + "\n")
				b.WriteString("    patch: |-\n      " + indent(p.Body, "      ") + "\n")
				continue
			}
			b.WriteString("  - patch: |-\n      " + indent(p.Body, "      ") + "\n")
		}
	}
	return b.String()
}

func indent(s, prefix string) string {
	return strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n"+prefix)
}

// Command implements workshop.Action.
func (k Kustomize) Command() string {
	return "cat > " + exerciseDir + "/kustomization.yaml <<'EOF'\n" + k.kustomization("deploy/overlays/<provider>") +
		"EOF\nlab_apply " + exerciseDir
}

// Run implements workshop.Action.
func (k Kustomize) Run(ctx context.Context, env *workshop.Env) error {
	dir := filepath.Join(env.Root, exerciseDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("exercise dir: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(k.kustomization(env.Overlay)), 0o644); err != nil {
		return fmt.Errorf("exercise kustomization: %w", err)
	}
	return env.Apply(ctx, dir)
}

// Scale sets a workload's replicas through its scale subresource, as
// `kubectl scale` does.
type Scale struct {
	Workload workshop.Workload
	Replicas int32
	// Namespace is the workload's, when it is not the lab's (CoreDNS's
	// kube-system).
	Namespace string
}

// Command implements workshop.Action.
func (s Scale) Command() string {
	return fmt.Sprintf("kubectl -n %s scale %s %s --replicas=%d", cmp.Or(s.Namespace, "podpaths"), s.Workload.Kind, s.Workload.Name, s.Replicas)
}

// Run implements workshop.Action.
func (s Scale) Run(ctx context.Context, env *workshop.Env) error {
	ns := cmp.Or(s.Namespace, env.Namespace)
	scale := &autoscalingv1.Scale{
		ObjectMeta: metav1.ObjectMeta{Name: s.Workload.Name, Namespace: ns},
		Spec:       autoscalingv1.ScaleSpec{Replicas: s.Replicas},
	}
	apps := env.Clients.Kube.AppsV1()
	var err error
	if s.Workload.Kind == "statefulset" {
		_, err = apps.StatefulSets(ns).UpdateScale(ctx, s.Workload.Name, scale, metav1.UpdateOptions{})
	} else {
		_, err = apps.Deployments(ns).UpdateScale(ctx, s.Workload.Name, scale, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("scale %s to %d: %w", s.Workload, s.Replicas, err)
	}
	return nil
}

// Restart restarts a workload's pods, as `kubectl rollout restart` does:
// a new annotation on the pod template makes a new revision.
type Restart struct{ Workload workshop.Workload }

// Command implements workshop.Action.
func (r Restart) Command() string {
	return fmt.Sprintf("kubectl -n podpaths rollout restart %s", r.Workload)
}

// Run implements workshop.Action.
func (r Restart) Run(ctx context.Context, env *workshop.Env) error {
	return rollout.Restart(ctx, env.Clients.Kube, env.Namespace, r.Workload.Kind, r.Workload.Name)
}

// RolledOut waits until a workload has rolled out: every replica updated and
// ready. Old pods may still be terminating, but they are out of every
// Service's endpoints already, so no call reaches them.
type RolledOut struct {
	Workload workshop.Workload
	// Namespace is the workload's, when it is not the lab's.
	Namespace string
}

// Command implements workshop.Action.
func (r RolledOut) Command() string {
	return fmt.Sprintf("kubectl -n %s rollout status %s", cmp.Or(r.Namespace, "podpaths"), r.Workload)
}

// Run implements workshop.Action.
func (r RolledOut) Run(ctx context.Context, env *workshop.Env) error {
	return env.WaitRolledOut(ctx, r.Namespace, r.Workload)
}

// DeleteService deletes a Service, as `kubectl delete service` does.
type DeleteService struct{ Name string }

// Command implements workshop.Action.
func (d DeleteService) Command() string { return "kubectl -n podpaths delete service " + d.Name }

// Run implements workshop.Action.
func (d DeleteService) Run(ctx context.Context, env *workshop.Env) error {
	err := env.Clients.Kube.CoreV1().Services(env.Namespace).Delete(ctx, d.Name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete service %s: %w", d.Name, err)
	}
	return nil
}

// DeletePod deletes a pod, as `kubectl delete pod --wait=false` does: it
// shuts down gracefully, and its controller makes a new one.
type DeletePod struct{ Name string }

// Command implements workshop.Action.
func (d DeletePod) Command() string {
	return "kubectl -n podpaths delete pod " + d.Name + " --wait=false"
}

// Run implements workshop.Action.
func (d DeletePod) Run(ctx context.Context, env *workshop.Env) error {
	err := env.Clients.Kube.CoreV1().Pods(env.Namespace).Delete(ctx, d.Name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete pod %s: %w", d.Name, err)
	}
	return nil
}

// CreateService creates a ClusterIP Service in front of the backend pods by
// hand, as `kubectl expose service` does: a copy of From's selector and
// ports (From is backend when empty), and nothing else, so the new Service
// gets whatever ClusterIP the allocator picks.
type CreateService struct{ Name, From string }

func (c CreateService) from() string { return cmp.Or(c.From, "backend") }

// Command implements workshop.Action.
func (c CreateService) Command() string {
	return "kubectl -n podpaths expose service " + c.from() + " --name=" + c.Name
}

// Run implements workshop.Action.
func (c CreateService) Run(ctx context.Context, env *workshop.Env) error {
	services := env.Clients.Kube.CoreV1().Services(env.Namespace)
	from, err := services.Get(ctx, c.from(), metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("create service %s: %w", c.Name, err)
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: c.Name, Namespace: env.Namespace,
			Labels: map[string]string{"app.kubernetes.io/part-of": "podpaths"}},
		Spec: corev1.ServiceSpec{Selector: from.Spec.Selector, Ports: from.Spec.Ports},
	}
	for i := range svc.Spec.Ports {
		svc.Spec.Ports[i].NodePort = 0 // a ClusterIP Service may not have one
	}
	_, err = services.Create(ctx, svc, metav1.CreateOptions{FieldManager: manifest.FieldManager})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create service %s: %w", c.Name, err)
	}
	return nil
}

// ApplyBase applies the provider's overlay again: every change the lab's
// field manager made is taken back, and deleted objects come back.
type ApplyBase struct{}

// Command implements workshop.Action.
func (ApplyBase) Command() string { return "lab_apply deploy/overlays/<provider>" }

// Run implements workshop.Action.
func (ApplyBase) Run(ctx context.Context, env *workshop.Env) error {
	return env.ApplyOverlay(ctx)
}

// Look is a command that changes nothing, for the participant to see
// something by hand; the runner's expectations make the same calls.
type Look struct{ Cmd string }

// Command implements workshop.Action.
func (l Look) Command() string { return l.Cmd }

// Run implements workshop.Action: there is nothing to change.
func (Look) Run(context.Context, *workshop.Env) error { return nil }

// StartProbe starts the exercises' probe pod in the default namespace, and
// waits until it runs; calls from it are calls from a pod that is not part
// of the lab. The reset deletes it.
type StartProbe struct{}

// Command implements workshop.Action.
func (StartProbe) Command() string {
	return "kubectl -n " + workshop.ProbeNamespace + " run " + workshop.ProbePodName("") + " --image=localhost/podpaths/probe:$(cat VERSION) " +
		"--image-pull-policy=IfNotPresent -- sleep"
}

// Run implements workshop.Action.
func (StartProbe) Run(ctx context.Context, env *workshop.Env) error {
	return env.StartProbePod(ctx, "")
}

// StartProbeOn is StartProbe for a probe pod pinned to a node, so that calls
// from it show that node's view (its kube-proxy's rules).
type StartProbeOn struct{ Node string }

// Command implements workshop.Action.
func (s StartProbeOn) Command() string {
	return fmt.Sprintf(`kubectl -n %s run %s --image=localhost/podpaths/probe:$(cat VERSION) --image-pull-policy=IfNotPresent --overrides='{"spec":{"nodeName":"%s"}}' -- sleep`,
		workshop.ProbeNamespace, workshop.ProbePodName(s.Node), s.Node)
}

// Run implements workshop.Action.
func (s StartProbeOn) Run(ctx context.Context, env *workshop.Env) error {
	return env.StartProbePod(ctx, s.Node)
}
