package drills

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podpaths/podpaths/lab/kube"
	"github.com/podpaths/podpaths/lab/workshop"
	"github.com/podpaths/podpaths/lab/workshop/actions"
	"github.com/podpaths/podpaths/platform/report"
)

// kubeletStopped and what it observes: a node that stops reporting, and
// the controllers that do or do not replace its pods.

func kubeletStopped() workshop.Exercise {
	start := actions.Daemon{Node: nodeB, Name: "kubelet", Start: true}
	rebalance := []workshop.Action{actions.Restart{Workload: workshop.Frontend}, actions.RolledOut{Workload: workshop.Frontend}}
	return workshop.Exercise{
		Slug:  "drill-kubelet",
		Title: "Drill: a node's kubelet stops",
		Goal:  "see what Kubernetes does about a node that stops reporting, and what a StatefulSet will not do.",
		Only:  "local",
		Predict: []string{
			"The kubelet stops on node B; its containers keep running. How long until node B is `NotReady`? Do its pods still get traffic?",
			"Its pods are then evicted. Which controller replaces them at once, and which waits? Why?",
			"When the kubelet is back, do the frontend pods move back to node B?",
		},
		Steps: []workshop.Step{
			{
				Name:   "stop node B's kubelet",
				Do:     []workshop.Action{actions.Daemon{Node: nodeB, Name: "kubelet"}},
				Within: 2 * time.Minute,
				Expect: []workshop.Expectation{
					workshop.Observed{Says: "node B is `NotReady`: its kubelet stopped renewing its lease", Holds: nodeReady(nodeB, false)},
					workshop.Observed{Says: "node B's pods are not ready, so no Service sends them anything, though they still run", Holds: noneReadyOn(nodeB)},
					workshop.Path{ID: report.IDOutsideWhoami, Is: workshop.Works, Why: "`/my-be/` answers from the pods on node A"},
				},
			},
			{
				Name:   "wait for the eviction",
				Do:     []workshop.Action{actions.Look{Cmd: "kubectl -n podpaths get pods -o wide --watch"}},
				Within: 3 * time.Minute,
				Expect: []workshop.Expectation{
					workshop.Observed{Says: "node B's pods were evicted and stay `Terminating`, as no kubelet confirms that they stopped; " +
						"the frontend's ReplicaSet replaced them on node A at once, the backend StatefulSet did not: the backends ready are those on node A",
						Holds: evictedFrom(nodeB)},
					workshop.Path{ID: report.IDOutsideWhoami, Is: workshop.Works},
				},
			},
			{
				Name:   "start it again",
				Do:     []workshop.Action{start, actions.RolledOut{Workload: workshop.Backend}, actions.RolledOut{Workload: workshop.Frontend}},
				Within: 4 * time.Minute,
				Expect: []workshop.Expectation{
					workshop.Observed{Says: "node B is `Ready`", Holds: nodeReady(nodeB, true)},
					workshop.Rows{Prefix: report.HeadlessID(""), N: 3, Why: "the StatefulSet recreated its pods once the old ones were gone"},
					workshop.Observed{Says: "both frontend pods stay on node A: nothing moves a running pod back (a rollout restart would spread them again)",
						Holds: noFrontendOn(nodeB)},
					workshop.CheckPasses(true),
				},
			},
		},
		Undo: append([]workshop.Action{start}, rebalance...),
		Explain: `The kubelet renews its node's Lease every 10 s. When the node lifecycle controller has heard nothing
for 50 s (` + "`--node-monitor-grace-period`" + `), it marks the node ` + "`NotReady`" + ` (status Unknown), marks its pods not
ready, which takes them out of every Service, and taints the node ` + "`node.kubernetes.io/unreachable`" + `. Each pod tolerates
that taint for a while (300 s by default; the local lab sets 30 s in ` + "`deploy/overlays/local/node-loss.yaml`" + `) and is
then evicted: deleted, though nothing on the node can confirm it. A Deployment's ReplicaSet does not care and starts
replacements. A StatefulSet does: it promises at most one ` + "`backend-1`" + `, and the old one may still run on the lost
node, so it waits until the pod is really gone, which needs the kubelet back (or someone who knows the node is dead:
` + "`kubectl delete pod --force`" + ` or the ` + "`node.kubernetes.io/out-of-service`" + ` taint). The scheduler places new pods
only: when node B is back, the frontends stay where they are until something replaces them. (The local lab keeps
CoreDNS on node A, so the cluster's DNS survives the drill; a real cluster runs two replicas on different nodes.)
See https://kubernetes.io/docs/concepts/architecture/nodes/#node-status and
https://kubernetes.io/docs/tasks/run-application/force-delete-stateful-set-pod/.`,
	}
}

// labPods lists the backend and frontend pods; probe pods keep the default
// tolerations and are none of a drill's business.
func labPods(ctx context.Context, env *workshop.Env) ([]corev1.Pod, error) {
	return env.Pods(ctx, "app.kubernetes.io/name in (backend,frontend)")
}

// noneReadyOn expects every lab pod on node to be not ready.
func noneReadyOn(node string) holds {
	return func(ctx context.Context, env *workshop.Env, _ *workshop.State) error {
		pods, err := labPods(ctx, env)
		if err != nil {
			return err
		}
		for _, p := range pods {
			if p.Spec.NodeName == node && kube.PodReady(&p) {
				return fmt.Errorf("%s on node %s is still ready", p.Name, node)
			}
		}
		return nil
	}
}

// noFrontendOn expects no frontend pod on node.
func noFrontendOn(node string) holds {
	return func(ctx context.Context, env *workshop.Env, _ *workshop.State) error {
		pods, err := env.Pods(ctx, "app.kubernetes.io/name=frontend")
		if err != nil {
			return err
		}
		for _, p := range pods {
			if p.Spec.NodeName == node {
				return fmt.Errorf("%s runs on node %s", p.Name, node)
			}
		}
		return nil
	}
}

// nodeReady expects node's Ready condition to be ready.
func nodeReady(node string, ready bool) holds {
	return func(ctx context.Context, env *workshop.Env, _ *workshop.State) error {
		n, err := env.Clients.Kube.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if got, status := kube.NodeReady(n); got != ready {
			return fmt.Errorf("node %s is %s", node, status)
		}
		return nil
	}
}

// evictedFrom expects every lab pod on node to be evicted (deleted, but
// still there: no kubelet confirmed it), two ready frontends elsewhere, and
// the backends elsewhere ready: the StatefulSet cannot start another
// backend-N while the old one's object remains.
func evictedFrom(node string) holds {
	return func(ctx context.Context, env *workshop.Env, _ *workshop.State) error {
		pods, err := labPods(ctx, env)
		if err != nil {
			return err
		}
		var lostBackends, backendsElsewhere, readyBackends, readyFrontends int
		for _, p := range pods {
			app := p.Labels["app.kubernetes.io/name"]
			ready := kube.PodReady(&p)
			switch {
			case p.Spec.NodeName == node && p.DeletionTimestamp == nil:
				return fmt.Errorf("%s on node %s is not evicted", p.Name, node)
			case p.Spec.NodeName == node && app == "backend":
				lostBackends++
			case app == "backend":
				backendsElsewhere++
				if ready {
					readyBackends++
				}
			case app == "frontend" && ready:
				readyFrontends++
			}
		}
		switch {
		case lostBackends == 0:
			return fmt.Errorf("no backend pod ran on node %s", node)
		case readyFrontends != 2:
			return fmt.Errorf("%d frontend pods ready on other nodes, want 2", readyFrontends)
		case readyBackends != backendsElsewhere:
			return fmt.Errorf("%d of the %d backends on other nodes are ready", readyBackends, backendsElsewhere)
		}
		return nil
	}
}
