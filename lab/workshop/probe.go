package workshop

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podpaths/podpaths/lab/kube"
	"github.com/podpaths/podpaths/platform/report"
)

// ProbeNamespace and probeName place the exercises' probe pods: outside the
// lab's namespace, so that none of the lab's NetworkPolicies allow them.
const (
	ProbeNamespace = "default"
	probeName      = "podpaths-exercise-probe"
	probeLabel     = "app.kubernetes.io/name"
)

// ProbePodName is the name of the exercises' probe pod on node, or of the
// one the scheduler places when node is "".
func ProbePodName(node string) string {
	if node == "" {
		return probeName
	}
	return probeName + "-" + node
}

// StartProbePod starts the exercises' probe pod, on node unless that is "",
// and waits until it runs; calls from it are calls from a pod that is not
// part of the lab. The reset deletes it.
func (env *Env) StartProbePod(ctx context.Context, node string) error {
	name := ProbePodName(node)
	image, err := env.ProbeImage()
	if err != nil {
		return err
	}
	pod := kube.ProbePod(name, ProbeNamespace, image, map[string]string{probeLabel: probeName, "app.kubernetes.io/part-of": "podpaths"})
	pod.Spec.NodeName = node
	pods := env.Clients.Kube.CoreV1().Pods(ProbeNamespace)
	if _, err := pods.Create(ctx, pod, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("start the probe pod %s: %w", name, err)
	}
	return WaitFor(ctx, env, "the probe pod", func(ctx context.Context) (string, error) {
		p, err := pods.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return "", err
		}
		if p.Status.Phase != corev1.PodRunning {
			return "probe pod " + name + " " + string(p.Status.Phase), nil
		}
		return "", nil
	})
}

// ProbeImage is the e2e probe's image, which the lab loads.
func (env *Env) ProbeImage() (string, error) {
	version, err := os.ReadFile(filepath.Join(env.Root, "VERSION"))
	if err != nil {
		return "", fmt.Errorf("probe image tag: %w", err)
	}
	return "localhost/podpaths/probe:" + strings.TrimSpace(string(version)), nil
}

// ProbeGet calls url from the exercises' probe pod (actions.StartProbe),
// with a timeout of 2 s, and returns the call.
func (env *Env) ProbeGet(ctx context.Context, url string) (report.ProbeCall, error) {
	return env.probeGet(ctx, ProbePodName(""), url)
}

func (env *Env) probeGet(ctx context.Context, pod, url string) (report.ProbeCall, error) {
	res, err := env.Clients.Exec(ctx, ProbeNamespace, pod, kube.ProbeContainer, []string{"/probe", "get", url, "--timeout", "2s"})
	if err != nil {
		return report.ProbeCall{}, err
	}
	var out report.ProbeCalls
	if err := json.Unmarshal(res.Stdout, &out); err != nil || len(out.Calls) == 0 {
		return report.ProbeCall{}, fmt.Errorf("probe get %s from %s: %q (%v)", url, pod, res.Stdout, err)
	}
	return out.Calls[0], nil
}

// ProbeGetFrom calls url from the probe pod on node (actions.StartProbeOn).
func (env *Env) ProbeGetFrom(ctx context.Context, node, url string) (report.ProbeCall, error) {
	return env.probeGet(ctx, ProbePodName(node), url)
}

// deleteProbes removes every probe pod the exercises started.
func deleteProbes(ctx context.Context, env *Env) error {
	pods := env.Clients.Kube.CoreV1().Pods(ProbeNamespace)
	list, err := pods.List(ctx, metav1.ListOptions{LabelSelector: probeLabel + "=" + probeName})
	if err != nil {
		return err
	}
	for _, p := range list.Items {
		if err := pods.Delete(ctx, p.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete probe pod %s: %w", p.Name, err)
		}
	}
	return nil
}
