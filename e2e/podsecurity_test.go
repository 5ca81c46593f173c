//go:build e2e

package e2e

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podpaths/podpaths/e2e/internal/cluster"
)

// TestPodSecurity proves the namespace's Pod Security "restricted": every
// pod the lab runs is admitted by it, with no warning from the latest
// version of the policy either, and a pod that breaks it is rejected. On
// the local cluster the API server also refuses a privileged container in
// any namespace; kind's allows one where Pod Security does not stop it.
func TestPodSecurity(t *testing.T) {
	r := begin(t, 2*time.Minute)
	ns, err := r.env.Client.CoreV1().Namespaces().Get(r.ctx, r.env.Opts.Namespace, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("namespace-enforces-restricted", func(t *testing.T) {
		if got := ns.Labels["pod-security.kubernetes.io/enforce"]; got != "restricted" {
			t.Errorf("namespace %s has pod-security.kubernetes.io/enforce=%q, want restricted", ns.Name, got)
		}
	})

	client, warnings, err := r.env.WarningClient()
	if err != nil {
		t.Fatal(err)
	}
	pods := slices.Concat(r.pods(t, cluster.Backend), r.pods(t, cluster.Frontend), []corev1.Pod{*r.probe.Pod})
	for _, pod := range pods {
		t.Run("admitted/"+pod.Name, func(t *testing.T) {
			// A server-side dry run of the same pod spec goes through
			// admission again, now, under the namespace's current labels:
			// enforce must admit it, and warn (latest) must say nothing.
			dry := &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{GenerateName: "e2e-dryrun-", Namespace: pod.Namespace},
				Spec:       *pod.Spec.DeepCopy(),
			}
			warnings.Take()
			_, err := client.CoreV1().Pods(pod.Namespace).Create(r.ctx, dry, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
			if err != nil {
				t.Errorf("pod %s's spec is not admitted: %v", pod.Name, err)
			}
			if w := warnings.Take(); len(w) > 0 {
				t.Errorf("pod %s's spec is admitted with warnings %q; want none under restricted, latest version", pod.Name, w)
			}
		})
	}

	t.Run("violating-pod-rejected", func(t *testing.T) {
		// Escalation, not privileged: the local API server would refuse
		// a privileged container before Pod Security sees it.
		bad := r.env.ProbePod(cluster.ProbeOptions{Name: "e2e-escalating-" + cluster.RandSuffix()})
		yes := true
		bad.Spec.Containers[0].SecurityContext.AllowPrivilegeEscalation = &yes
		_, err := r.env.Client.CoreV1().Pods(bad.Namespace).Create(r.ctx, bad, metav1.CreateOptions{})
		if err == nil {
			r.undo("pod "+bad.Name, time.Minute, func(ctx context.Context) error {
				return r.env.Client.CoreV1().Pods(bad.Namespace).Delete(ctx, bad.Name, metav1.DeleteOptions{})
			})
			t.Fatalf("a pod that allows privilege escalation was admitted into namespace %s; want it rejected by Pod Security restricted", bad.Namespace)
		}
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), `violates PodSecurity "restricted`) {
			t.Errorf("creating a pod that allows privilege escalation: %v; want Forbidden: violates PodSecurity \"restricted...\"", err)
		}
		t.Logf("rejected as expected: %v", err)
	})

	t.Run("privileged-container-elsewhere", func(t *testing.T) {
		// The default namespace has no Pod Security label, so only the API
		// server's own --allow-privileged decides; a dry run creates nothing.
		pod := r.env.ProbePod(cluster.ProbeOptions{Name: "e2e-privileged-" + cluster.RandSuffix()})
		pod.Namespace = metav1.NamespaceDefault
		yes := true
		pod.Spec.Containers[0].SecurityContext.Privileged = &yes
		pod.Spec.Containers[0].SecurityContext.AllowPrivilegeEscalation = &yes
		_, err := r.env.Client.CoreV1().Pods(pod.Namespace).Create(r.ctx, pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		switch r.env.Kind {
		case "local":
			if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "disallowed by cluster policy") {
				t.Errorf("a privileged container in namespace default: %v; want Invalid: disallowed by cluster policy (--allow-privileged=false)", err)
			}
		case "kind":
			if err != nil {
				t.Errorf("a privileged container in namespace default on kind: %v; want it admitted (kind's API server allows them)", err)
			}
		default:
			t.Skipf("what a %s cluster's API server allows is its own", r.env.Kind)
		}
	})
}
