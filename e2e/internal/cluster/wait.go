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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podpaths/podpaths/lab/kube"
	"github.com/podpaths/podpaths/lab/rollout"
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
		// A check cut off by the deadline fails for that reason alone (a
		// client's rate limiter, say); the one before it says what was wrong.
		if status != "" && ctx.Err() == nil {
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
func PodReady(p *corev1.Pod) bool { return kube.PodReady(p) }

func containersReady(p *corev1.Pod) bool { return kube.PodCondition(p, corev1.ContainersReady) }

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

// readWorkload reads a workload as lab/rollout sees it.
func (e *Env) readWorkload(ctx context.Context, w Workload) (rollout.Workload, error) {
	switch w.Kind {
	case "Deployment":
		d, err := e.Client.AppsV1().Deployments(e.Opts.Namespace).Get(ctx, w.Name, metav1.GetOptions{})
		if err != nil {
			return rollout.Workload{}, fmt.Errorf("get %s: %w", w, err)
		}
		return rollout.Deployment(d), nil
	case "StatefulSet":
		s, err := e.Client.AppsV1().StatefulSets(e.Opts.Namespace).Get(ctx, w.Name, metav1.GetOptions{})
		if err != nil {
			return rollout.Workload{}, fmt.Errorf("get %s: %w", w, err)
		}
		return rollout.StatefulSet(s), nil
	}
	return rollout.Workload{}, errors.New("unknown workload kind " + w.Kind)
}

// rolledOut says what a workload still waits for: its rollout, as `lab up`
// waits for it, and then no other pod of it (an old or terminating one)
// left, as its controller counts them and as the pods of its selector are.
// `lab up` need not wait for that last pod to go; a test that counts the
// pods that answer it must.
func (e *Env) rolledOut(ctx context.Context, w rollout.Workload) (string, bool) {
	if w.Pending != "" {
		return w.Pending, false
	}
	if w.Replicas != w.Want {
		return fmt.Sprintf("%s: %d pods counted, want %d", w.Name, w.Replicas, w.Want), false
	}
	pods, err := e.podsOf(ctx, w.Selector)
	if err != nil {
		return err.Error(), false
	}
	n := 0
	for _, p := range pods {
		if p.DeletionTimestamp != nil {
			return w.Name + ": pod " + p.Name + " still terminating", false
		}
		if PodReady(&p) {
			n++
		}
	}
	if int32(len(pods)) != w.Want || int32(n) != w.Want {
		return fmt.Sprintf("%s: %d pods of which %d ready, want %d", w.Name, len(pods), n, w.Want), false
	}
	return "", true
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
		rw, err := e.readWorkload(ctx, w)
		if err != nil {
			return err.Error(), false
		}
		return e.rolledOut(ctx, rw)
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
	ws, err := rollout.Workloads(ctx, e.Client, e.Opts.Namespace)
	if err != nil {
		return nil, err
	}
	if len(ws) == 0 {
		return []string{"no workloads in namespace " + e.Opts.Namespace + " (is the lab deployed?)"}, nil
	}
	var pending []string
	for _, w := range ws {
		if status, ok := e.rolledOut(ctx, w); !ok {
			pending = append(pending, status)
		}
	}
	if wantLB {
		lbs, err := rollout.LoadBalancersPending(ctx, e.Client, e.Opts.Namespace)
		if err != nil {
			return nil, err
		}
		pending = append(pending, lbs...)
	}
	slices.Sort(pending)
	return pending, nil
}

// Endpoint is one ready endpoint of a Service, as lab check reads it too.
type Endpoint = kube.Endpoint

// ReadyEndpoints lists a Service's ready endpoints from its EndpointSlices,
// sorted by pod name.
func (e *Env) ReadyEndpoints(ctx context.Context, service string) ([]Endpoint, error) {
	return kube.ReadyEndpoints(ctx, e.Client, e.Opts.Namespace, service)
}

// Pods lists the running pods of a workload's selector, sorted by name.
func (e *Env) Pods(ctx context.Context, w Workload) ([]corev1.Pod, error) {
	rw, err := e.readWorkload(ctx, w)
	if err != nil {
		return nil, err
	}
	pods, err := e.podsOf(ctx, rw.Selector)
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
// restart` does (rollout.Restart).
func (e *Env) RolloutRestart(ctx context.Context, w Workload) error {
	return rollout.Restart(ctx, e.Client, e.Opts.Namespace, w.Kind, w.Name)
}
