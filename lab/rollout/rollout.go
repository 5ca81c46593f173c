// Package rollout waits until the lab's workloads are ready and its
// LoadBalancer has an address, and says what it is still waiting for. Its
// Workload is what "rolled out" means for both `lab up` and the e2e suite.
package rollout

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// Pending lists what is not ready yet in a namespace, e.g.
// "statefulset/backend 2/3 ready"; empty means everything is.
func Pending(ctx context.Context, client kubernetes.Interface, namespace string, wantLB bool) ([]string, error) {
	ws, err := Workloads(ctx, client, namespace)
	if err != nil {
		return nil, err
	}
	var pending []string
	if len(ws) == 0 {
		pending = append(pending, "no workloads in namespace "+namespace)
	}
	for _, w := range ws {
		if w.Pending != "" {
			pending = append(pending, w.Pending)
		}
	}
	if wantLB {
		lbs, err := LoadBalancersPending(ctx, client, namespace)
		if err != nil {
			return nil, err
		}
		pending = append(pending, lbs...)
	}
	slices.Sort(pending)
	return pending, nil
}

// Workload is a Deployment or a StatefulSet as far as its rollout goes.
type Workload struct {
	// Name is how kubectl names it, e.g. "statefulset/backend".
	Name string
	// Selector selects its pods.
	Selector *metav1.LabelSelector
	// Want is spec.replicas, 1 when unset, as the API server defaults it.
	Want int32
	// Replicas is status.replicas: the pods its controller counts, old
	// ones included. A StatefulSet's rollout leaves it out, so that `lab up`
	// does not wait for the last pod of a scale-down to go; a caller that
	// counts pods compares it with Want.
	Replicas int32
	// Pending is "" once it has rolled out; otherwise what it still waits
	// for, e.g. "statefulset/backend 2/3 ready, 3 updated".
	Pending string
}

// Deployment is a Deployment's rollout: done once the controller has seen
// the latest spec and every replica is updated and available, with no old
// pods left.
func Deployment(d *appsv1.Deployment) Workload {
	w := Workload{Name: "deployment/" + d.Name, Selector: d.Spec.Selector, Want: replicas(d.Spec.Replicas), Replicas: d.Status.Replicas}
	st := d.Status
	if st.ObservedGeneration < d.Generation || st.UpdatedReplicas != w.Want || st.AvailableReplicas != w.Want || st.Replicas != w.Want {
		w.Pending = fmt.Sprintf("%s %d/%d available, %d updated", w.Name, st.AvailableReplicas, w.Want, st.UpdatedReplicas)
	}
	return w
}

// StatefulSet is a StatefulSet's rollout: done once the controller has seen
// the latest spec and every replica is ready and on the update revision.
func StatefulSet(s *appsv1.StatefulSet) Workload {
	w := Workload{Name: "statefulset/" + s.Name, Selector: s.Spec.Selector, Want: replicas(s.Spec.Replicas), Replicas: s.Status.Replicas}
	st := s.Status
	rolled := st.UpdateRevision == "" || st.CurrentRevision == st.UpdateRevision
	if st.ObservedGeneration < s.Generation || st.ReadyReplicas != w.Want || st.UpdatedReplicas != w.Want || !rolled {
		w.Pending = fmt.Sprintf("%s %d/%d ready, %d updated", w.Name, st.ReadyReplicas, w.Want, st.UpdatedReplicas)
	}
	return w
}

// replicas defaults an unset count to 1, as the API server does.
func replicas(n *int32) int32 {
	if n == nil {
		return 1
	}
	return *n
}

// Workloads reads the rollouts of every Deployment and StatefulSet in a
// namespace, Deployments first.
func Workloads(ctx context.Context, client kubernetes.Interface, namespace string) ([]Workload, error) {
	deps, err := client.AppsV1().Deployments(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list deployments: %w", err)
	}
	sets, err := client.AppsV1().StatefulSets(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list statefulsets: %w", err)
	}
	ws := make([]Workload, 0, len(deps.Items)+len(sets.Items))
	for i := range deps.Items {
		ws = append(ws, Deployment(&deps.Items[i]))
	}
	for i := range sets.Items {
		ws = append(ws, StatefulSet(&sets.Items[i]))
	}
	return ws, nil
}

// LoadBalancersPending names each LoadBalancer Service in a namespace that
// has no address yet, e.g. "service/frontend LoadBalancer address pending".
// Only a LoadBalancer controller assigns one, so callers ask only when one
// runs.
func LoadBalancersPending(ctx context.Context, client kubernetes.Interface, namespace string) ([]string, error) {
	svcs, err := addresslessLoadBalancers(ctx, client, namespace)
	if err != nil {
		return nil, err
	}
	var pending []string
	for _, s := range svcs {
		pending = append(pending, "service/"+s.Name+" LoadBalancer address pending")
	}
	return pending, nil
}

// LoadBalancersUnattended lists the LoadBalancer Services that have no
// address and no event about them. Every controller that assigns addresses
// records events on the Service it works on (cloud-provider-kind
// EnsuringLoadBalancer, MetalLB IPAllocated), so a Service without an
// address or an event, some time after it was created, has no controller.
func LoadBalancersUnattended(ctx context.Context, client kubernetes.Interface, namespace string) ([]string, error) {
	svcs, err := addresslessLoadBalancers(ctx, client, namespace)
	if err != nil {
		return nil, err
	}
	var unattended []string
	for _, s := range svcs {
		events, err := client.CoreV1().Events(namespace).List(ctx, metav1.ListOptions{
			FieldSelector: "involvedObject.kind=Service,involvedObject.name=" + s.Name,
		})
		if err != nil {
			return nil, fmt.Errorf("list events of service %s: %w", s.Name, err)
		}
		if !slices.ContainsFunc(events.Items, func(e corev1.Event) bool {
			return e.InvolvedObject.Kind == "Service" && e.InvolvedObject.Name == s.Name
		}) {
			unattended = append(unattended, "service/"+s.Name)
		}
	}
	return unattended, nil
}

// addresslessLoadBalancers are the namespace's LoadBalancer Services that
// have no address yet.
func addresslessLoadBalancers(ctx context.Context, client kubernetes.Interface, namespace string) ([]corev1.Service, error) {
	svcs, err := client.CoreV1().Services(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	return slices.DeleteFunc(svcs.Items, func(s corev1.Service) bool {
		return s.Spec.Type != corev1.ServiceTypeLoadBalancer || len(s.Status.LoadBalancer.Ingress) > 0
	}), nil
}

// Wait polls every interval until nothing is pending, printing what it waits
// for whenever that changes. On timeout the error names what was pending.
func Wait(ctx context.Context, client kubernetes.Interface, namespace string, wantLB bool, interval time.Duration, out io.Writer) error {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	last := ""
	for {
		pending, err := Pending(ctx, client, namespace, wantLB)
		if err != nil {
			return err
		}
		if len(pending) == 0 {
			_, err := fmt.Fprintln(out, "ready: every workload in", namespace)
			return err
		}
		if now := strings.Join(pending, "; "); now != last {
			if _, err := fmt.Fprintln(out, "waiting:", now); err != nil {
				return err
			}
			last = now
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("still waiting for %s: %w", last, ctx.Err())
		case <-tick.C:
		}
	}
}

// Restart restarts a workload's pods as `kubectl rollout restart` does: a
// new annotation on the pod template makes a new revision, which the
// controller rolls out by the workload's own update strategy. kind is
// "deployment" or "statefulset", in any case. The annotation has
// nanoseconds, so that two restarts within a second are two revisions.
func Restart(ctx context.Context, client kubernetes.Interface, namespace, kind, name string) error {
	patch := fmt.Appendf(nil, `{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":%q}}}}}`,
		time.Now().Format(time.RFC3339Nano))
	kind = strings.ToLower(kind)
	apps := client.AppsV1()
	var err error
	switch kind {
	case "deployment":
		_, err = apps.Deployments(namespace).Patch(ctx, name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	case "statefulset":
		_, err = apps.StatefulSets(namespace).Patch(ctx, name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	default:
		err = fmt.Errorf("unknown workload kind %q", kind)
	}
	if err != nil {
		return fmt.Errorf("restart %s/%s: %w", kind, name, err)
	}
	return nil
}
