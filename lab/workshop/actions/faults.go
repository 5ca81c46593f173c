package actions

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podpaths/podpaths/lab/kube"
	"github.com/podpaths/podpaths/lab/load"
	"github.com/podpaths/podpaths/lab/rollout"
	"github.com/podpaths/podpaths/lab/workshop"
	"github.com/podpaths/podpaths/platform/probe"
	"github.com/podpaths/podpaths/platform/report"
)

// The actions that change more than objects: the drills' faults, started
// and ended on purpose, and what they watch while they last; a pod watched
// while it is deleted (the sidecar exercise); the outside client's routes.

// Daemon stops or starts one of a node's own daemons (kube-proxy, kubelet),
// through Env.Faults.
type Daemon struct {
	Node, Name string
	Start      bool
}

// Command implements workshop.Action.
func (d Daemon) Command() string {
	verb := "stop"
	if d.Start {
		verb = "start"
	}
	return fmt.Sprintf("# on the local cluster, node %s's %s is a process of this machine: the lab %ss it\nmake exercise N=<this one>  # %s %s on %s",
		d.Node, d.Name, verb, verb, d.Name, d.Node)
}

// Run implements workshop.Action.
func (d Daemon) Run(ctx context.Context, env *workshop.Env) error {
	if env.Faults == nil {
		return fmt.Errorf("this lab cannot stop or start a node's %s", d.Name)
	}
	if d.Start {
		return env.Faults.Start(ctx, d.Node, d.Name)
	}
	return env.Faults.Stop(ctx, d.Node, d.Name)
}

// RouteServicesFromOutside gives the local cluster's outside client a
// route to the Service range through node A, or takes it away (Remove).
type RouteServicesFromOutside struct{ Remove bool }

// Command implements workshop.Action.
func (r RouteServicesFromOutside) Command() string {
	const netns = "sudo nsenter --net=/var/lib/podpaths/local/outside.netns "
	if r.Remove {
		return netns + "ip route flush exact 10.96.0.0/16"
	}
	return netns + "ip route replace 10.96.0.0/16 via 172.31.0.1 dev eth0"
}

// Run implements workshop.Action.
func (r RouteServicesFromOutside) Run(ctx context.Context, env *workshop.Env) error {
	if env.Outside == nil {
		return errors.New("this lab has no outside client whose routes it can change")
	}
	return env.Outside.RouteServices(ctx, !r.Remove)
}

// KillSidecar stops a backend pod's sidecar with SIGTERM, as if it had
// died: an ephemeral container that shares the sidecar's process namespace
// runs `probe term 1`. It then watches, four times a second, until the
// kubelet has restarted the sidecar and the pod is back in the backend
// Service's endpoints, recording in Env.Watched[Pod] how the backend's call
// to its sidecar went (through a port-forward into the pod, as WatchDelete
// does) and whether the pod's endpoint was ready: "sidecar=ok endpoint=ready",
// "sidecar=refused endpoint=not-ready", ...
type KillSidecar struct{ Pod string }

// Command implements workshop.Action.
func (k KillSidecar) Command() string {
	return "kubectl -n podpaths debug " + k.Pod + " --target=sidecar --profile=restricted --image=localhost/podpaths/probe:$(cat VERSION) -- /probe term 1\n" +
		"kubectl -n podpaths get pod " + k.Pod + " -w  # READY 1/2, then RESTARTS 1 and READY 2/2"
}

// Run implements workshop.Action.
func (k KillSidecar) Run(ctx context.Context, env *workshop.Env) error {
	pods := env.Clients.Kube.CoreV1().Pods(env.Namespace)
	pod, err := pods.Get(ctx, k.Pod, metav1.GetOptions{})
	if err != nil {
		return err
	}
	restarts := restartsOf(pod, sidecarContainer)
	addr, stop, err := env.Clients.PortForward(ctx, env.Namespace, k.Pod, 8080)
	if err != nil {
		return err
	}
	defer stop() //nolint:errcheck // the forward ends with the run
	if err := k.term(ctx, env, pod); err != nil {
		return err
	}
	w := sidecarWatch{env: env, pod: k.Pod, addr: addr,
		prober: &probe.Prober{Client: probe.NewClient(probe.ClientOptions{Timeout: 2 * time.Second}), Timeout: 2 * time.Second}}
	seen, err := w.until(ctx, func(p *corev1.Pod, endpointReady bool) bool {
		return restartsOf(p, sidecarContainer) > restarts && kube.PodReady(p) && endpointReady
	})
	env.Record(k.Pod, seen)
	env.Printf("  %s while its sidecar restarted: %s\n", k.Pod, workshop.Summarize(seen))
	return err
}

// sidecarContainer is the sidecar's container name in the backend pods.
const sidecarContainer = "sidecar"

// term starts the ephemeral container that sends the sidecar SIGTERM.
func (k KillSidecar) term(ctx context.Context, env *workshop.Env, pod *corev1.Pod) error {
	image, err := env.ProbeImage()
	if err != nil {
		return err
	}
	uid, no, yes := int64(65532), false, true
	pod.Spec.EphemeralContainers = append(pod.Spec.EphemeralContainers, corev1.EphemeralContainer{
		TargetContainerName: sidecarContainer,
		EphemeralContainerCommon: corev1.EphemeralContainerCommon{
			Name:  fmt.Sprintf("term-%s-%d", sidecarContainer, len(pod.Spec.EphemeralContainers)),
			Image: image, ImagePullPolicy: corev1.PullIfNotPresent, Command: []string{"/probe", "term", "1"},
			// The sidecar's user, so that the signal is allowed; and the
			// namespace's restricted Pod Security profile.
			SecurityContext: &corev1.SecurityContext{
				RunAsNonRoot: &yes, RunAsUser: &uid, RunAsGroup: &uid, AllowPrivilegeEscalation: &no,
				Capabilities:   &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
		},
	})
	_, err = env.Clients.Kube.CoreV1().Pods(env.Namespace).UpdateEphemeralContainers(ctx, k.Pod, pod, metav1.UpdateOptions{})
	if err != nil {
		return fmt.Errorf("stop the sidecar of %s: %w", k.Pod, err)
	}
	return nil
}

// sidecarWatch records what a backend pod reports of its sidecar, and
// whether the pod is a ready endpoint of the backend Service.
type sidecarWatch struct {
	env    *workshop.Env
	pod    string
	addr   string
	prober *probe.Prober
}

// until watches four times a second until done holds, or 2 minutes pass.
func (w sidecarWatch) until(ctx context.Context, done func(*corev1.Pod, bool) bool) ([]string, error) {
	var seen []string
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(2 * time.Minute)
	for {
		p, err := w.env.Clients.Kube.CoreV1().Pods(w.env.Namespace).Get(ctx, w.pod, metav1.GetOptions{})
		if err != nil {
			return seen, err
		}
		ready, err := w.endpointReady(ctx)
		if err != nil {
			return seen, err
		}
		seen = append(seen, w.sidecar(ctx)+" "+map[bool]string{true: "endpoint=ready", false: "endpoint=not-ready"}[ready])
		if done(p, ready) {
			return seen, nil
		}
		select {
		case <-ctx.Done():
			return seen, ctx.Err()
		case <-deadline:
			return seen, fmt.Errorf("%s: the sidecar was not restarted and ready within 2 minutes", w.pod)
		case <-tick.C:
		}
	}
}

// sidecar is how the backend's own call to its sidecar went.
func (w sidecarWatch) sidecar(ctx context.Context) string {
	res := w.prober.Get(ctx, w.addr, "/api/whoami", "")
	if res.Err != nil {
		return "backend=" + string(res.Kind)
	}
	if sc, ok := report.DecodeSidecar(res.Body); ok && sc.OK {
		return "sidecar=ok"
	} else if ok {
		return "sidecar=" + string(sc.ErrorKind)
	}
	return "sidecar=unreported"
}

// endpointReady reports whether the pod is a ready endpoint of the backend
// Service.
func (w sidecarWatch) endpointReady(ctx context.Context) (bool, error) {
	eps, err := kube.ReadyEndpoints(ctx, w.env.Clients.Kube, w.env.Namespace, workshop.Backend.Name)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(eps, func(e kube.Endpoint) bool { return e.Pod == w.pod }), nil
}

func restartsOf(p *corev1.Pod, container string) int32 {
	for _, s := range slices.Concat(p.Status.ContainerStatuses, p.Status.InitContainerStatuses) {
		if s.Name == container {
			return s.RestartCount
		}
	}
	return 0
}

// LoadDuring runs Action while a steady keep-alive load goes through the
// lab's first entry to /my-be/api/whoami (nginx -> the backend Service),
// until the workloads have rolled out again, and records what the load
// saw in Env.Watched[Name]: "requests N", "failed N", "retried N", then the
// first failures.
type LoadDuring struct {
	Name   string
	Action workshop.Action
}

// Command implements workshop.Action.
func (l LoadDuring) Command() string {
	return "# steady keep-alive load through the NodePort, e.g. 4 connections to $E/my-be/api/whoami, while:\n" + l.Action.Command()
}

// Run implements workshop.Action.
func (l LoadDuring) Run(ctx context.Context, env *workshop.Env) error {
	if len(env.Entries) == 0 {
		return errors.New("no entry into the lab for the load")
	}
	run := load.Start(ctx, []load.Target{{Name: l.Name, URL: env.Entries[0] + "/my-be/api/whoami", Conns: 4, Every: 20 * time.Millisecond}}, true, 5*time.Second)
	err := l.Action.Run(ctx, env)
	if err == nil {
		err = workshop.WaitFor(ctx, env, "the workloads to roll out again", func(ctx context.Context) (string, error) {
			pending, err := rollout.Pending(ctx, env.Clients.Kube, env.Namespace, false)
			return strings.Join(pending, "; "), err
		})
	}
	c := run.Stop()[l.Name]
	env.Record(l.Name, append([]string{fmt.Sprintf("requests %d", c.Requests), fmt.Sprintf("failed %d", c.Failed),
		fmt.Sprintf("retried %d", c.Retried)}, c.Failures...))
	env.Printf("  the load through %s: %d requests, %d failed, %d retried\n", env.Entries[0], c.Requests, c.Failed, c.Retried)
	return err
}

// WatchDelete deletes a backend pod and, through a port-forward into it,
// asks it for /api/whoami four times a second until it stops answering,
// recording how its call to its sidecar went each time ("sidecar=ok",
// "sidecar=refused", ..., then "no answer") in Env.Watched.
type WatchDelete struct{ Pod string }

// Command implements workshop.Action.
func (w WatchDelete) Command() string {
	return "kubectl -n podpaths port-forward pod/" + w.Pod + " 18080:8080 &\n" +
		`while sleep 0.25; do curl -s --max-time 2 localhost:18080/api/whoami | jq -r '"sidecar=\(if .sidecar.ok then "ok" else .sidecar.error_kind end)"' || echo "no answer"; done &` + "\n" +
		"kubectl -n podpaths delete pod " + w.Pod + " --wait=false"
}

// Run implements workshop.Action.
func (w WatchDelete) Run(ctx context.Context, env *workshop.Env) error {
	addr, stop, err := env.Clients.PortForward(ctx, env.Namespace, w.Pod, 8080)
	if err != nil {
		return err
	}
	defer stop() //nolint:errcheck // the forward ends with the pod
	prober := &probe.Prober{Client: probe.NewClient(probe.ClientOptions{Timeout: 2 * time.Second}), Timeout: 2 * time.Second}
	if err := env.Clients.Kube.CoreV1().Pods(env.Namespace).Delete(ctx, w.Pod, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete pod %s: %w", w.Pod, err)
	}
	var seen []string
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(90 * time.Second)
	for {
		res := prober.Get(ctx, addr, "/api/whoami", "")
		if res.Err != nil {
			seen = append(seen, "no answer")
			break
		}
		if sc, ok := report.DecodeSidecar(res.Body); ok && sc.OK {
			seen = append(seen, "sidecar=ok")
		} else {
			seen = append(seen, "sidecar="+string(sc.ErrorKind))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline:
			return fmt.Errorf("%s still answered 90 s after its deletion", w.Pod)
		case <-tick.C:
		}
	}
	env.Record(w.Pod, seen)
	env.Printf("  %s answered during its shutdown: %s\n", w.Pod, workshop.Summarize(seen))
	return nil
}
