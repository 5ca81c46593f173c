// Package rollout waits until the lab's workloads are ready and its
// LoadBalancer has an address, and says what it is still waiting for.
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
	"k8s.io/client-go/kubernetes"
)

// Pending lists what is not ready yet in a namespace, e.g.
// "statefulset/backend 2/3 ready"; empty means everything is.
func Pending(ctx context.Context, client kubernetes.Interface, namespace string, wantLB bool) ([]string, error) {
	deps, err := client.AppsV1().Deployments(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list deployments: %w", err)
	}
	sets, err := client.AppsV1().StatefulSets(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list statefulsets: %w", err)
	}
	var pending []string
	if len(deps.Items)+len(sets.Items) == 0 {
		pending = append(pending, "no workloads in namespace "+namespace)
	}
	for _, d := range deps.Items {
		if msg := deploymentPending(d); msg != "" {
			pending = append(pending, msg)
		}
	}
	for _, s := range sets.Items {
		if msg := statefulSetPending(s); msg != "" {
			pending = append(pending, msg)
		}
	}
	if wantLB {
		svcs, err := client.CoreV1().Services(namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, fmt.Errorf("list services: %w", err)
		}
		for _, s := range svcs.Items {
			if s.Spec.Type == corev1.ServiceTypeLoadBalancer && len(s.Status.LoadBalancer.Ingress) == 0 {
				pending = append(pending, "service/"+s.Name+" LoadBalancer address pending")
			}
		}
	}
	slices.Sort(pending)
	return pending, nil
}

// deploymentPending is "" once the controller has seen the latest spec and
// every replica is updated and available, with no old pods left.
func deploymentPending(d appsv1.Deployment) string {
	want := replicas(d.Spec.Replicas)
	st := d.Status
	if st.ObservedGeneration < d.Generation || st.UpdatedReplicas != want || st.AvailableReplicas != want || st.Replicas != want {
		return fmt.Sprintf("deployment/%s %d/%d available, %d updated", d.Name, st.AvailableReplicas, want, st.UpdatedReplicas)
	}
	return ""
}

// statefulSetPending is "" once every replica is ready and on the update
// revision.
func statefulSetPending(s appsv1.StatefulSet) string {
	want := replicas(s.Spec.Replicas)
	st := s.Status
	rolled := st.UpdateRevision == "" || st.CurrentRevision == st.UpdateRevision
	if st.ObservedGeneration < s.Generation || st.ReadyReplicas != want || st.UpdatedReplicas != want || !rolled {
		return fmt.Sprintf("statefulset/%s %d/%d ready, %d updated", s.Name, st.ReadyReplicas, want, st.UpdatedReplicas)
	}
	return ""
}

// replicas defaults an unset count to 1, as the API server does.
func replicas(n *int32) int32 {
	if n == nil {
		return 1
	}
	return *n
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
