package cluster

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podpaths/podpaths/e2e/internal/probecmd"
	"github.com/podpaths/podpaths/lab/kube"
	"github.com/podpaths/podpaths/platform/report"
)

// Labels of every object the suite creates, so that a run can remove what an
// interrupted one left behind. They are not podpaths' own part-of label: a
// lab apply with --prune must never see the suite's objects as its own.
const (
	LabelManagedBy = "app.kubernetes.io/managed-by"
	ManagedBy      = "podpaths-e2e"
	LabelName      = "app.kubernetes.io/name"
	probeName      = "e2e-probe"
)

// ProbeEnv is the variable that, set to 1, makes the test binary act as the
// probe command: the outside client runs it in another network namespace.
const ProbeEnv = "PODPATHS_E2E_AS_PROBE"

// Probe is a pod that runs the probe, to see the cluster from inside.
type Probe struct {
	env *Env
	Pod *corev1.Pod
}

// ProbeOptions place a probe pod.
type ProbeOptions struct {
	// Node pins the pod to a node; "" lets the scheduler choose.
	Node string
	// Name overrides the generated name, e.g. to recreate the same pod.
	Name string
}

// ProbePod is the probe pod's manifest. It meets Pod Security "restricted"
// in every field the namespace enforces: non-root numeric user, no privilege
// escalation, no capabilities, RuntimeDefault seccomp, read-only root, and
// requests and limits like the lab's own pods.
func (e *Env) ProbePod(o ProbeOptions) *corev1.Pod {
	name := o.Name
	if name == "" {
		name = probeName + "-" + RandSuffix()
	}
	pod := kube.ProbePod(name, e.Opts.Namespace, e.Opts.ProbeImage, map[string]string{LabelName: probeName, LabelManagedBy: ManagedBy})
	pod.Spec.NodeName = o.Node
	return pod
}

// StartProbe creates a probe pod and waits until it runs. The caller deletes
// it (Probe.Delete), usually in a cleanup.
func (e *Env) StartProbe(ctx context.Context, o ProbeOptions) (*Probe, error) {
	pod, err := e.Client.CoreV1().Pods(e.Opts.Namespace).Create(ctx, e.ProbePod(o), metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("create probe pod: %w", err)
	}
	p := &Probe{env: e, Pod: pod}
	err = Eventually(ctx, 2*time.Minute, 250*time.Millisecond, func(ctx context.Context) (string, bool) {
		cur, err := e.Client.CoreV1().Pods(e.Opts.Namespace).Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			return err.Error(), false
		}
		p.Pod = cur
		return podState(cur), cur.Status.Phase == corev1.PodRunning && containersReady(cur) && cur.Status.PodIP != ""
	})
	if err != nil {
		return p, fmt.Errorf("probe pod %s did not start: %w", pod.Name, err)
	}
	return p, nil
}

// Delete removes the probe pod and waits until it is gone, so that a pod of
// the same name can be created again.
func (p *Probe) Delete(ctx context.Context) error {
	pods := p.env.Client.CoreV1().Pods(p.env.Opts.Namespace)
	err := pods.Delete(ctx, p.Pod.Name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete probe pod %s: %w", p.Pod.Name, err)
	}
	return Eventually(ctx, time.Minute, 250*time.Millisecond, func(ctx context.Context) (string, bool) {
		_, err := pods.Get(ctx, p.Pod.Name, metav1.GetOptions{})
		return fmt.Sprintf("pod %s still exists", p.Pod.Name), apierrors.IsNotFound(err)
	})
}

// Run execs the probe with args and returns what it printed. Exit code 1
// means a call or lookup failed, which the JSON describes; anything else
// non-zero is an error.
func (p *Probe) Run(ctx context.Context, args ...string) ([]byte, error) {
	res, err := p.env.Exec(ctx, p.Pod.Namespace, p.Pod.Name, kube.ProbeContainer, append([]string{"/probe"}, args...))
	if err != nil {
		return nil, err
	}
	if res.ExitCode > 1 || len(res.Stdout) == 0 {
		return nil, fmt.Errorf("probe %q in pod %s: exit %d, stderr %q", args, p.Pod.Name, res.ExitCode, res.Stderr)
	}
	return res.Stdout, nil
}

// decoded decodes what a probe printed into a T, unless running it failed.
func decoded[T any](raw []byte, err error) (T, error) {
	var out T
	if err != nil {
		return out, err
	}
	err = probecmd.Decode(raw, &out)
	return out, err
}

// Get runs `probe get URL args...`.
func (p *Probe) Get(ctx context.Context, url string, args ...string) (report.ProbeCalls, error) {
	return decoded[report.ProbeCalls](p.Run(ctx, append([]string{"get", url}, args...)...))
}

// Lookup runs `probe lookup NAME`: the A records, through the pod's resolver.
func (p *Probe) Lookup(ctx context.Context, name string) (report.ProbeLookup, error) {
	return p.lookup(ctx, "lookup", name)
}

// SRV runs `probe srv NAME`.
func (p *Probe) SRV(ctx context.Context, name string) (report.ProbeLookup, error) {
	return p.lookup(ctx, "srv", name)
}

func (p *Probe) lookup(ctx context.Context, cmd, name string) (report.ProbeLookup, error) {
	return decoded[report.ProbeLookup](p.Run(ctx, cmd, name))
}

// Environ runs `probe env`: the variables the kubelet gave the container.
func (p *Probe) Environ(ctx context.Context) (map[string]string, error) {
	out, err := decoded[report.ProbeEnv](p.Run(ctx, "env"))
	return out.Env, err
}

// Get runs `probe get` from the outside client's network namespace. The
// probe there is this very test binary, started again by nsenter with
// ProbeEnv set, so nothing has to be built or installed for it.
func (o *Outside) Get(ctx context.Context, url string, args ...string) (report.ProbeCalls, error) {
	self, err := os.Executable()
	if err != nil {
		return report.ProbeCalls{}, fmt.Errorf("outside probe: %w", err)
	}
	argv := append([]string{"--net=" + o.Netns, self, "get", url}, args...)
	cmd := exec.CommandContext(ctx, "nsenter", argv...)
	cmd.Env = append(os.Environ(), ProbeEnv+"=1")
	raw, err := cmd.Output()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 1 && len(raw) > 0 {
		err = nil
	}
	if err != nil {
		err = fmt.Errorf("outside probe in %s: %w (stderr %q)", o.Netns, err, stderrOf(err))
	}
	return decoded[report.ProbeCalls](raw, err)
}

func stderrOf(err error) string {
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return string(exit.Stderr)
	}
	return ""
}

// RandSuffix is a short random name suffix, so that runs and tests never
// collide on object names. Lower case, because names are DNS labels.
func RandSuffix() string {
	return strings.ToLower(rand.Text()[:6])
}
