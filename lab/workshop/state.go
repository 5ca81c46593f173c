package workshop

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/podpaths/podpaths/lab/matrix"
	"github.com/podpaths/podpaths/platform/probe"
	"github.com/podpaths/podpaths/platform/report"
)

// State is one look at the lab: every check of `make check`, which holds
// the paths tried from outside and every path the pods reported, from the
// entry's frontend and from the frontend on each node.
type State struct {
	Result matrix.Result
	// byID holds the checks of each path id, from every reporter.
	byID map[string][]matrix.Check
}

// Observe runs the matrix once.
func Observe(ctx context.Context, env *Env) (*State, error) {
	res, err := matrix.New(env.Clients.Kube, env.Matrix).Run(ctx)
	if err != nil {
		return nil, err
	}
	s := &State{Result: res, byID: map[string][]matrix.Check{}}
	for _, c := range res.Checks() {
		s.byID[c.ID] = append(s.byID[c.ID], c)
	}
	return s, nil
}

// reportErrors says why reports are missing: the failed calls for them.
func (s *State) reportErrors() string {
	var errs []string
	for _, c := range s.Result.Checks() {
		if (c.ID == report.IDOutsidePaths || strings.HasPrefix(c.ID, report.NodePathsID(""))) && !c.OK {
			errs = append(errs, c.ID+": "+c.Error)
		}
	}
	if len(errs) == 0 {
		return ""
	}
	return " (" + strings.Join(errs, "; ") + ")"
}

// Paths returns every check of path id.
func (s *State) Paths(id string) []matrix.Check { return s.byID[id] }

// PathsWithPrefix returns every check whose id starts with prefix.
func (s *State) PathsWithPrefix(prefix string) []matrix.Check {
	var out []matrix.Check
	for _, id := range slices.Sorted(maps.Keys(s.byID)) {
		if strings.HasPrefix(id, prefix) {
			out = append(out, s.byID[id]...)
		}
	}
	return out
}

// Outcomes are the path results of a state in a form that survives a
// restart of the runner: key (path id and where it was seen from) ->
// result, e.g. "frontend-backend-env@podpaths-a" -> "ok".
type Outcomes map[string]string

// Outcomes summarises the state for the comparison with the baseline.
// Which pod answered is left out: it changes from call to call.
func (s *State) Outcomes() Outcomes {
	out := Outcomes{}
	for _, c := range s.Result.Checks() {
		out[key(c)] = outcome(c)
	}
	return out
}

// key names a check: its id, and the node it was reported from when the
// frontend's pod reported it, since the two frontends' views may differ. A
// backend's own calls (its sidecar, its siblings) come from whichever backend
// the report reached, so their key leaves the reporting pod out.
func key(c matrix.Check) string {
	if from, ok := report.SiblingFrom(c.ID); ok {
		return strings.Replace(c.ID, from, "*", 1)
	}
	if c.FromNode != "" && c.From != "outside" && c.From != "backend" {
		return c.ID + "@" + c.FromNode
	}
	return c.ID
}

// outcome is one word for a check's result.
func outcome(c matrix.Check) string {
	switch {
	case c.Outcome() == report.OutcomeSkip:
		return "skipped (" + string(c.ErrorKind) + ")"
	case c.OK && c.Expected == report.ExpectFail:
		return "works (must fail)"
	case c.OK:
		return "ok"
	case c.Expected == report.ExpectFail:
		return "blocked (" + string(c.ErrorKind) + ", expected)"
	default:
		return string(cmp.Or(c.ErrorKind, report.ErrorOther))
	}
}

// Change is one path whose result differs from the baseline.
type Change struct {
	Key, Before, After string
	Predicted          bool
}

// Mark says how a participant should read the change: predicted by the
// exercise, a path that came or went with a pod or node (a frontend scaled
// away takes its rows with it), or unexpected.
func (c Change) Mark() string {
	switch {
	case c.Predicted:
		return "predicted"
	case c.After == "-":
		return "no longer reported"
	case c.Before == "-":
		return "newly reported"
	default:
		return "unexpected"
	}
}

// Diff lists the paths whose result differs between before and after,
// sorted by key; a path that appeared or disappeared is "-" on one side.
func Diff(before, after Outcomes, covered func(id string) bool) []Change {
	var out []Change
	keys := slices.Sorted(maps.Keys(before))
	for k := range after {
		if _, ok := before[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		b, a := cmp.Or(before[k], "-"), cmp.Or(after[k], "-")
		if a == b {
			continue
		}
		id, _, _ := strings.Cut(k, "@")
		id = strings.Replace(id, "*", "backend-0", 1) // any sibling id stands for its kind
		out = append(out, Change{Key: k, Before: b, After: a, Predicted: covered(id)})
	}
	return out
}

// Get fetches path through the first entry that answers, as a browser
// would (waiting when it is told it is busy), and returns the answer; it
// fails when no entry answered.
func (env *Env) Get(ctx context.Context, path string) (probe.Result, error) {
	client := probe.NewClient(probe.ClientOptions{Timeout: 5 * time.Second})
	defer client.CloseIdleConnections()
	prober := &probe.Prober{Client: client, Timeout: 5 * time.Second}
	var errs []error
	for _, e := range env.Entries {
		res := probe.RetryBusy(ctx, func(ctx context.Context) probe.Result { return prober.GetURL(ctx, e+path, "") })
		if res.Err == nil {
			return res, nil
		}
		errs = append(errs, res.Err)
	}
	return probe.Result{}, fmt.Errorf("GET %s through every entry: %w", path, errors.Join(errs...))
}

// SiblingsByPod counts each reporting backend's sibling rows.
func (s *State) SiblingsByPod() map[string]int {
	n := map[string]map[string]bool{}
	for _, c := range s.Result.Checks() {
		if from, ok := report.SiblingFrom(c.ID); ok {
			if n[from] == nil {
				n[from] = map[string]bool{}
			}
			n[from][c.ID] = true
		}
	}
	out := map[string]int{}
	for from, ids := range n {
		out[from] = len(ids)
	}
	return out
}

// SiblingsAre holds when every backend that reports its siblings lists n
// of them (for Observed.Holds).
func SiblingsAre(n int) func(context.Context, *Env, *State) error {
	return func(_ context.Context, _ *Env, s *State) error {
		counts := s.SiblingsByPod()
		if len(counts) == 0 {
			return fmt.Errorf("no backend reported its siblings")
		}
		for pod, got := range counts {
			if got != n {
				return fmt.Errorf("%s lists %d siblings", pod, got)
			}
		}
		return nil
	}
}
