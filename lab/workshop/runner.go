package workshop

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/podpaths/podpaths/lab/manifest"
	"github.com/podpaths/podpaths/lab/rollout"
)

// Runner runs exercises against a lab.
type Runner struct {
	Env       *Env
	Exercises []Exercise
	// Checked and NotHere count the observations printed so far: checked,
	// or not checked on this lab (another provider's, or one that needs a
	// NetworkPolicy enforcer).
	Checked, NotHere int
	// Took is how long each step took to show in the lab, by exercise
	// slug, in step order: for a drill's last step, the time to recover.
	Took map[string][]time.Duration
}

// ErrExpectation is the error of a check whose expectations do not hold.
var ErrExpectation = errors.New("an expected observation is missing")

// find returns the exercise named by its number (from 1) or its slug.
func (r *Runner) find(name string) (int, Exercise, error) {
	for i, ex := range r.Exercises {
		if name == strconv.Itoa(i+1) || name == ex.Slug {
			return i + 1, ex, nil
		}
	}
	var have []string
	for i, ex := range r.Exercises {
		have = append(have, fmt.Sprintf("%d %s", i+1, ex.Slug))
	}
	return 0, Exercise{}, fmt.Errorf("no exercise %q (have: %s)", name, strings.Join(have, ", "))
}

// List prints every exercise with its status: active, or done since the
// lab was last brought up.
func (r *Runner) List(ctx context.Context) error {
	p, err := loadProgress(ctx, r.Env)
	if err != nil {
		return err
	}
	width := 0
	for _, ex := range r.Exercises {
		width = max(width, len(ex.Slug))
	}
	for i, ex := range r.Exercises {
		status := ""
		switch {
		case ex.Slug == p.Active:
			status = fmt.Sprintf("  [active: step %d of %d applied; make exercise-check, make exercise-reset]", p.Step+1, len(ex.Steps))
		case slices.Contains(p.Done, ex.Slug):
			status = "  [done]"
		}
		r.Env.Printf("%2d  %-*s  %s%s\n", i+1, width, ex.Slug, ex.Title, status)
	}
	return nil
}

// Start runs exercise name: it prints the goal and the predictions, then
// applies each step, waits until the lab shows it, and prints what changed
// against the state before the step. The lab stays changed until Reset.
func (r *Runner) Start(ctx context.Context, name string) error {
	n, ex, err := r.find(name)
	if err != nil {
		return err
	}
	p, err := loadProgress(ctx, r.Env)
	if err != nil {
		return err
	}
	if p.Active != "" {
		return fmt.Errorf("exercise %s is active: make exercise-reset first", p.Active)
	}
	if ex.Only != "" && ex.Only != r.Env.Provider {
		return fmt.Errorf("exercise %s runs on the %s lab only (this one is %s)", ex.Slug, ex.Only, r.Env.Provider)
	}
	r.Env.Printf("Exercise %d: %s\n\nGoal: %s\n\nPredict:\n", n, ex.Title, ex.Goal)
	for _, q := range ex.Predict {
		r.Env.Printf("  - %s\n", q)
	}
	before, err := Observe(ctx, r.Env)
	if err != nil {
		return err
	}
	p.Active = ex.Slug
	for i, step := range ex.Steps {
		p.Step, p.Before = i, before.Outcomes()
		if err := saveProgress(ctx, r.Env, p); err != nil {
			return err
		}
		started := time.Now()
		var shown time.Time
		if before, shown, err = r.runStep(ctx, i, len(ex.Steps), step, before); err != nil {
			return err
		}
		if r.Took == nil {
			r.Took = map[string][]time.Duration{}
		}
		r.Took[ex.Slug] = append(r.Took[ex.Slug], shown.Sub(started))
	}
	r.Env.Printf("\nExplain: %s\n\nWhen you are done: make exercise-reset\n", oneLine(ex.Explain))
	return nil
}

// runStep applies one step, waits for it and prints what it changed. It
// returns the state after it, and when the lab began to show it.
func (r *Runner) runStep(ctx context.Context, i, n int, step Step, before *State) (*State, time.Time, error) {
	r.Env.Printf("\nStep %d/%d: %s\n", i+1, n, step.Name)
	for _, a := range step.Do {
		r.Env.Printf("  do: %s\n", firstLine(a.Command()))
		if err := a.Run(ctx, r.Env); err != nil {
			return nil, time.Time{}, err
		}
	}
	start := time.Now()
	after, shown, err := converge(ctx, r.Env, step)
	if err != nil {
		return nil, time.Time{}, err
	}
	r.Env.Printf("  the lab showed it after %s\n", shown.Sub(start).Round(time.Second))
	if step.Hold > 0 {
		r.Env.Printf("  and kept showing it for %s\n", step.Hold)
	}
	r.printChanges(step, before.Outcomes(), after.Outcomes())
	r.printObserved(ctx, step, after)
	return after, shown, nil
}

// Check compares the lab with the active exercise's last step again, for
// a participant who changed something by hand; it fails when an expected
// observation is missing.
func (r *Runner) Check(ctx context.Context) error {
	p, err := loadProgress(ctx, r.Env)
	if err != nil {
		return err
	}
	if p.Active == "" {
		return errors.New("no exercise is active: make exercise N=<number> starts one")
	}
	_, ex, err := r.find(p.Active)
	if err != nil {
		return err
	}
	step := ex.Steps[p.Step]
	s, err := Observe(ctx, r.Env)
	if err != nil {
		return err
	}
	r.Env.Printf("Exercise %s, step %d/%d: %s\n", ex.Slug, p.Step+1, len(ex.Steps), step.Name)
	r.printChanges(step, p.Before, s.Outcomes())
	if missing := r.printObserved(ctx, step, s); missing > 0 {
		return fmt.Errorf("%w: %d of %d", ErrExpectation, missing, len(step.Expect))
	}
	return nil
}

// Reset takes the lab back to the base, whatever state it is in, and
// proves it: every path as `make check` wants it.
func (r *Runner) Reset(ctx context.Context) error {
	p, err := loadProgress(ctx, r.Env)
	if err != nil {
		return err
	}
	if p.Active != "" {
		if _, ex, err := r.find(p.Active); err == nil {
			for _, a := range ex.Undo {
				r.Env.Printf("reset: %s\n", firstLine(a.Command()))
				if err := a.Run(ctx, r.Env); err != nil {
					return err
				}
			}
		}
	}
	objs, err := manifest.Render(filesys.MakeFsOnDisk(), filepath.Join(r.Env.Root, r.Env.Overlay))
	if err != nil {
		return err
	}
	repinned, err := repin(ctx, r.Env, objs)
	if err != nil {
		return err
	}
	r.Env.Printf("reset: applying %s and removing what exercises added\n", r.Env.Overlay)
	if err := r.Env.ApplyObjects(ctx, objs); err != nil {
		return err
	}
	if err := prune(ctx, r.Env, objs); err != nil {
		return err
	}
	if err := deleteProbes(ctx, r.Env); err != nil {
		return err
	}
	if repinned {
		// The frontend's BACKEND_SERVICE_HOST is the address of the
		// Service it started with, which is gone.
		r.Env.Printf("reset: restart the frontend, whose environment holds the replaced address\n")
		if err := rollout.Restart(ctx, r.Env.Clients.Kube, r.Env.Namespace, Frontend.Kind, Frontend.Name); err != nil {
			return err
		}
	}
	for _, w := range []Workload{Backend, Frontend} {
		if err := r.Env.WaitRolledOut(ctx, "", w); err != nil {
			return err
		}
	}
	if _, _, err := converge(ctx, r.Env, Step{Name: "reset", Expect: []Expectation{CheckPasses(true)}}); err != nil {
		return err
	}
	r.Env.Printf("reset: every path as it must be\n")
	if p.Active != "" {
		p.Done = append(p.Done, p.Active)
	}
	p.Active, p.Step, p.Before = "", 0, nil
	return saveProgress(ctx, r.Env, p)
}

// repin deletes the Services whose ClusterIP the overlay pins but that have
// another one, because somebody recreated them by hand: a ClusterIP never
// changes, so only a new Service can get the pinned address back. It says
// whether it deleted any.
func repin(ctx context.Context, env *Env, objs []*unstructured.Unstructured) (bool, error) {
	services := env.Clients.Kube.CoreV1().Services(env.Namespace)
	deleted := false
	for _, o := range objs {
		pinned, _, _ := unstructured.NestedString(o.Object, "spec", "clusterIP")
		if o.GetKind() != "Service" || pinned == "" || pinned == corev1.ClusterIPNone {
			continue
		}
		live, err := services.Get(ctx, o.GetName(), metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return deleted, err
		}
		if live.Spec.ClusterIP == pinned {
			continue
		}
		env.Printf("reset: delete service %s: its ClusterIP is %s, the manifest pins %s\n", o.GetName(), live.Spec.ClusterIP, pinned)
		if err := services.Delete(ctx, o.GetName(), metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return deleted, fmt.Errorf("delete service %s: %w", o.GetName(), err)
		}
		deleted = true
	}
	return deleted, nil
}

// prune deletes the Services and NetworkPolicies of the lab's namespace
// that the overlay (objs) does not have: server-side apply never deletes,
// and exercises add both.
func prune(ctx context.Context, env *Env, objs []*unstructured.Unstructured) error {
	keep := map[string]bool{}
	for _, o := range objs {
		keep[o.GetKind()+"/"+o.GetName()] = true
	}
	core, netv1 := env.Clients.Kube.CoreV1(), env.Clients.Kube.NetworkingV1()
	svcs, err := core.Services(env.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	for _, s := range svcs.Items {
		if !keep["Service/"+s.Name] {
			env.Printf("reset: delete service %s\n", s.Name)
			if err := core.Services(env.Namespace).Delete(ctx, s.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				return err
			}
		}
	}
	pols, err := netv1.NetworkPolicies(env.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	for _, np := range pols.Items {
		if !keep["NetworkPolicy/"+np.Name] {
			env.Printf("reset: delete networkpolicy %s\n", np.Name)
			if err := netv1.NetworkPolicies(env.Namespace).Delete(ctx, np.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				return err
			}
		}
	}
	return nil
}

// printChanges prints one line per path whose result changed, marked
// predicted when an expectation of the step covers it (Change.Mark).
func (r *Runner) printChanges(step Step, before, after Outcomes) {
	covered := func(id string) bool {
		for _, e := range step.Expect {
			if c, ok := e.(Covering); ok && c.Covers(id) {
				return true
			}
		}
		return false
	}
	changes := Diff(before, after, covered)
	if len(changes) == 0 {
		r.Env.Printf("  no path changed\n")
		return
	}
	r.Env.Printf("  changed:\n")
	for _, c := range changes {
		r.Env.Printf("    %-56s %s -> %s  (%s)\n", c.Key, c.Before, c.After, c.Mark())
	}
}

// printObserved prints each expectation with its result and returns how
// many do not hold.
func (r *Runner) printObserved(ctx context.Context, step Step, s *State) int {
	missing := 0
	r.Env.Printf("  observed:\n")
	for _, e := range step.Expect {
		mark := "✓"
		if reason := notHere(r.Env, e); reason != "" {
			mark = "– (" + reason + ")"
			r.NotHere++
		} else {
			r.Checked++
			if err := e.Check(ctx, r.Env, s); err != nil {
				mark = "✗ (" + err.Error() + ")"
				missing++
			}
		}
		r.Env.Printf("    %s %s\n", mark, e.Text())
	}
	return missing
}

// notHere says why an expectation is not checked on this lab, or "".
func notHere(env *Env, e Expectation) string {
	switch c := e.(type) {
	case OnlyOn:
		if env.Provider != c.Provider {
			return "not checked here: " + c.Provider + " only"
		}
	case WithPolicy:
		if !env.EnforcesPolicy {
			return "not checked here: this cluster does not enforce NetworkPolicy"
		}
	case Watched:
		if _, ok := env.Watched[c.Pod]; !ok {
			return "seen only while make exercise runs the step"
		}
	}
	return ""
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
