package workshop

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podpaths/podpaths/platform/probe"
	"github.com/podpaths/podpaths/platform/report"
)

// WatchDelete deletes a backend pod and, through a port-forward into it,
// asks it for /api/whoami four times a second until it stops answering,
// recording how its call to its sidecar went each time ("sidecar=ok",
// "sidecar=refused", ..., then "no answer") in Env.Watched.
type WatchDelete struct{ Pod string }

// Command implements Action.
func (w WatchDelete) Command() string {
	return "kubectl -n podpaths port-forward pod/" + w.Pod + " 18080:8080 &\n" +
		`while sleep 0.25; do curl -s --max-time 2 localhost:18080/api/whoami | jq -r '"sidecar=\(if .sidecar.ok then "ok" else .sidecar.error_kind end)"' || echo "no answer"; done &` + "\n" +
		"kubectl -n podpaths delete pod " + w.Pod + " --wait=false"
}

// Run implements Action.
func (w WatchDelete) Run(ctx context.Context, env *Env) error {
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
	env.watched(w.Pod, seen)
	env.printf("  %s answered during its shutdown: %s\n", w.Pod, summarize(seen))
	return nil
}

// summarize folds repeated answers: "sidecar=ok x12, sidecar=refused x40, no answer".
func summarize(seen []string) string {
	var out string
	for i := 0; i < len(seen); {
		j := i
		for j < len(seen) && seen[j] == seen[i] {
			j++
		}
		if out != "" {
			out += ", "
		}
		out += fmt.Sprintf("%s x%d", seen[i], j-i)
		i = j
	}
	return out
}

// Watched is an observation of what a WatchDelete saw. It exists only in
// the run that watched, so `make exercise-check` does not check it.
type Watched struct {
	Pod   string
	Says  string
	Holds func(seen []string) error
}

// Text implements Expectation.
func (w Watched) Text() string { return w.Says }

// Check implements Expectation.
func (w Watched) Check(_ context.Context, env *Env, _ *State) error {
	seen, ok := env.Watched[w.Pod]
	if !ok {
		return nil
	}
	if err := w.Holds(seen); err != nil {
		return fmt.Errorf("%w: %s", err, summarize(seen))
	}
	return nil
}
