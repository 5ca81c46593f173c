package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

// Eventually checks cond every interval until it holds or timeout passes.
// cond returns what it saw, so that a timeout says what was still wrong
// instead of only that time ran out.
func Eventually(ctx context.Context, timeout, interval time.Duration, cond func(context.Context) (status string, ok bool)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	last := "not checked yet"
	for {
		status, ok := cond(ctx)
		if ok {
			return nil
		}
		if status != "" {
			last = status
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("still not done after %s: %s", timeout, last)
		case <-tick.C:
		}
	}
}

// podState is a short description of a pod for wait messages.
func podState(p *corev1.Pod) string {
	s := fmt.Sprintf("pod %s: %s", p.Name, p.Status.Phase)
	for _, c := range p.Status.ContainerStatuses {
		switch {
		case c.State.Waiting != nil:
			s += fmt.Sprintf(", %s waiting (%s: %s)", c.Name, c.State.Waiting.Reason, c.State.Waiting.Message)
		case c.State.Terminated != nil:
			s += fmt.Sprintf(", %s terminated (%s)", c.Name, c.State.Terminated.Reason)
		case !c.Ready:
			s += ", " + c.Name + " not ready"
		}
	}
	return s
}

// PodReady is the pod's Ready condition.
func PodReady(p *corev1.Pod) bool { return podCondition(p, corev1.PodReady) }

func containersReady(p *corev1.Pod) bool { return podCondition(p, corev1.ContainersReady) }

// podCondition reports whether the pod's condition t is true.
func podCondition(p *corev1.Pod, t corev1.PodConditionType) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == t {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// Workload names a Deployment or a StatefulSet.
type Workload struct {
	Kind string // "Deployment" or "StatefulSet"
	Name string
}

func (w Workload) String() string { return strings.ToLower(w.Kind) + "/" + w.Name }

// The lab's two workloads.
var (
	Backend  = Workload{Kind: "StatefulSet", Name: "backend"}
	Frontend = Workload{Kind: "Deployment", Name: "frontend"}
)

// workloadState reads a workload and says what it still waits for: the
// controller has seen the latest spec, every replica is updated and ready,
// and no other pod of it (an old or terminating one) is left.
func (e *Env) workloadState(ctx context.Context, w Workload) (string, bool) {
	var want, ready, updated int32
	var selector *metav1.LabelSelector
	var rolled bool
	switch w.Kind {
	case "Deployment":
		d, err := e.Client.AppsV1().Deployments(e.Opts.Namespace).Get(ctx, w.Name, metav1.GetOptions{})
		if err != nil {
			return err.Error(), false
		}
		want, selector = replicas(d.Spec.Replicas), d.Spec.Selector
		st := d.Status
		ready, updated = st.AvailableReplicas, st.UpdatedReplicas
		rolled = st.ObservedGeneration >= d.Generation && st.Replicas == want
	case "StatefulSet":
		s, err := e.Client.AppsV1().StatefulSets(e.Opts.Namespace).Get(ctx, w.Name, metav1.GetOptions{})
		if err != nil {
			return err.Error(), false
		}
		want, selector = replicas(s.Spec.Replicas), s.Spec.Selector
		st := s.Status
		ready, updated = st.ReadyReplicas, st.UpdatedReplicas
		rolled = st.ObservedGeneration >= s.Generation && st.Replicas == want &&
			(st.UpdateRevision == "" || st.CurrentRevision == st.UpdateRevision)
	default:
		return "unknown workload kind " + w.Kind, false
	}
	status := fmt.Sprintf("%s: %d/%d ready, %d updated", w, ready, want, updated)
	if !rolled || ready != want || updated != want {
		return status, false
	}
	pods, err := e.podsOf(ctx, selector)
	if err != nil {
		return err.Error(), false
	}
	n := 0
	for _, p := range pods {
		if p.DeletionTimestamp != nil {
			return status + ", pod " + p.Name + " still terminating", false
		}
		if PodReady(&p) {
			n++
		}
	}
	if int32(len(pods)) != want || int32(n) != want {
		return fmt.Sprintf("%s, %d pods of which %d ready", status, len(pods), n), false
	}
	return status, true
}

func replicas(r *int32) int32 {
	if r == nil {
		return 1
	}
	return *r
}

func (e *Env) podsOf(ctx context.Context, selector *metav1.LabelSelector) ([]corev1.Pod, error) {
	sel, err := metav1.LabelSelectorAsSelector(selector)
	if err != nil {
		return nil, fmt.Errorf("selector: %w", err)
	}
	list, err := e.Client.CoreV1().Pods(e.Opts.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, fmt.Errorf("list pods: %w", err)
	}
	return list.Items, nil
}

// WaitWorkload waits until a workload is fully rolled out and ready.
func (e *Env) WaitWorkload(ctx context.Context, w Workload, timeout time.Duration) error {
	err := Eventually(ctx, timeout, 500*time.Millisecond, func(ctx context.Context) (string, bool) {
		return e.workloadState(ctx, w)
	})
	if err != nil {
		return fmt.Errorf("wait for %s: %w", w, err)
	}
	return nil
}

// WaitServiceEndpoints waits until a Service has exactly n ready endpoints,
// as kube-proxy and CoreDNS see them.
func (e *Env) WaitServiceEndpoints(ctx context.Context, service string, n int, timeout time.Duration) error {
	err := Eventually(ctx, timeout, 500*time.Millisecond, func(ctx context.Context) (string, bool) {
		eps, err := e.ReadyEndpoints(ctx, service)
		if err != nil {
			return err.Error(), false
		}
		return fmt.Sprintf("service %s has %d ready endpoints, want %d", service, len(eps), n), len(eps) == n
	})
	if err != nil {
		return fmt.Errorf("wait for endpoints: %w", err)
	}
	return nil
}

// LabState says what in the namespace is not ready yet: workloads, pods
// and, with wantLB, LoadBalancer addresses. Empty means everything is.
func (e *Env) LabState(ctx context.Context, wantLB bool) ([]string, error) {
	var pending []string
	deps, err := e.Client.AppsV1().Deployments(e.Opts.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list deployments: %w", err)
	}
	sets, err := e.Client.AppsV1().StatefulSets(e.Opts.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list statefulsets: %w", err)
	}
	if len(deps.Items)+len(sets.Items) == 0 {
		return []string{"no workloads in namespace " + e.Opts.Namespace + " (is the lab deployed?)"}, nil
	}
	var ws []Workload
	for _, d := range deps.Items {
		ws = append(ws, Workload{Kind: "Deployment", Name: d.Name})
	}
	for _, s := range sets.Items {
		ws = append(ws, Workload{Kind: "StatefulSet", Name: s.Name})
	}
	for _, w := range ws {
		if status, ok := e.workloadState(ctx, w); !ok {
			pending = append(pending, status)
		}
	}
	if wantLB {
		svcs, err := e.Client.CoreV1().Services(e.Opts.Namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, fmt.Errorf("list services: %w", err)
		}
		for _, s := range svcs.Items {
			if s.Spec.Type == corev1.ServiceTypeLoadBalancer && len(s.Status.LoadBalancer.Ingress) == 0 {
				pending = append(pending, "service/"+s.Name+": LoadBalancer address pending")
			}
		}
	}
	slices.Sort(pending)
	return pending, nil
}

// Endpoint is one ready endpoint of a Service.
type Endpoint struct {
	IP   string
	Pod  string
	Node string
	// Hostname is the endpoint's DNS label under a headless Service.
	Hostname string
}

// ReadyEndpoints lists a Service's ready endpoints from its EndpointSlices,
// sorted by pod name.
func (e *Env) ReadyEndpoints(ctx context.Context, service string) ([]Endpoint, error) {
	list, err := e.Client.DiscoveryV1().EndpointSlices(e.Opts.Namespace).List(ctx, metav1.ListOptions{
		LabelSelector: labels.Set{discoveryv1.LabelServiceName: service}.String(),
	})
	if err != nil {
		return nil, fmt.Errorf("list endpointslices of %s: %w", service, err)
	}
	seen := map[string]bool{}
	var out []Endpoint
	for _, s := range list.Items {
		for _, ep := range s.Endpoints {
			// A missing condition counts as ready, as the API says consumers
			// should treat it.
			if ep.Conditions.Ready != nil && !*ep.Conditions.Ready || len(ep.Addresses) == 0 || seen[ep.Addresses[0]] {
				continue
			}
			seen[ep.Addresses[0]] = true
			out = append(out, endpointOf(ep))
		}
	}
	slices.SortFunc(out, func(a, b Endpoint) int { return strings.Compare(a.Pod, b.Pod) })
	return out, nil
}

func endpointOf(ep discoveryv1.Endpoint) Endpoint {
	e := Endpoint{IP: ep.Addresses[0]}
	if ep.TargetRef != nil {
		e.Pod = ep.TargetRef.Name
	}
	if ep.NodeName != nil {
		e.Node = *ep.NodeName
	}
	if ep.Hostname != nil {
		e.Hostname = *ep.Hostname
	}
	return e
}

// Pods lists the running pods of a workload's selector, sorted by name.
func (e *Env) Pods(ctx context.Context, w Workload) ([]corev1.Pod, error) {
	var selector *metav1.LabelSelector
	switch w.Kind {
	case "Deployment":
		d, err := e.Client.AppsV1().Deployments(e.Opts.Namespace).Get(ctx, w.Name, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("get %s: %w", w, err)
		}
		selector = d.Spec.Selector
	case "StatefulSet":
		s, err := e.Client.AppsV1().StatefulSets(e.Opts.Namespace).Get(ctx, w.Name, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("get %s: %w", w, err)
		}
		selector = s.Spec.Selector
	default:
		return nil, errors.New("unknown workload kind " + w.Kind)
	}
	pods, err := e.podsOf(ctx, selector)
	if err != nil {
		return nil, err
	}
	var out []corev1.Pod
	for _, p := range pods {
		if p.DeletionTimestamp == nil && p.Status.Phase == corev1.PodRunning {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b corev1.Pod) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Scale sets a StatefulSet's or Deployment's replicas and returns the
// previous count.
func (e *Env) Scale(ctx context.Context, w Workload, n int32) (int32, error) {
	var get func(context.Context, string, metav1.GetOptions) (*autoscalingv1.Scale, error)
	var update func(context.Context, string, *autoscalingv1.Scale, metav1.UpdateOptions) (*autoscalingv1.Scale, error)
	switch w.Kind {
	case "Deployment":
		c := e.Client.AppsV1().Deployments(e.Opts.Namespace)
		get, update = c.GetScale, c.UpdateScale
	case "StatefulSet":
		c := e.Client.AppsV1().StatefulSets(e.Opts.Namespace)
		get, update = c.GetScale, c.UpdateScale
	default:
		return 0, errors.New("unknown workload kind " + w.Kind)
	}
	s, err := get(ctx, w.Name, metav1.GetOptions{})
	if err != nil {
		return 0, fmt.Errorf("get scale of %s: %w", w, err)
	}
	prev := s.Spec.Replicas
	s.Spec.Replicas = n
	if _, err := update(ctx, w.Name, s, metav1.UpdateOptions{}); err != nil {
		return prev, fmt.Errorf("scale %s to %d: %w", w, n, err)
	}
	return prev, nil
}

// RolloutRestart restarts a workload's pods the way `kubectl rollout
// restart` does: a new annotation on the pod template makes the controller
// replace every pod, by the workload's own update strategy.
func (e *Env) RolloutRestart(ctx context.Context, w Workload) error {
	patch := fmt.Appendf(nil, `{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":%q}}}}}`,
		time.Now().Format(time.RFC3339Nano))
	var err error
	switch w.Kind {
	case "Deployment":
		_, err = e.Client.AppsV1().Deployments(e.Opts.Namespace).Patch(ctx, w.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	case "StatefulSet":
		_, err = e.Client.AppsV1().StatefulSets(e.Opts.Namespace).Patch(ctx, w.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	default:
		err = errors.New("unknown workload kind " + w.Kind)
	}
	if err != nil {
		return fmt.Errorf("restart %s: %w", w, err)
	}
	return nil
}
