package workshop

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/podpaths/podpaths/lab/matrix"
	"github.com/podpaths/podpaths/platform/report"
)

// Result is what a path must show.
type Result struct {
	label string
	match func(matrix.Check) error
}

// Works expects the path to answer, as it must.
var Works = Result{label: "works", match: func(c matrix.Check) error {
	if !c.OK || c.Outcome() != report.OutcomePass {
		return got(c)
	}
	return nil
}}

// FailsWith expects the path to fail with one of kinds.
func FailsWith(kinds ...report.ErrorKind) Result {
	return Result{label: "fails with " + kindList(kinds), match: func(c matrix.Check) error {
		if c.OK || !slices.Contains(kinds, c.ErrorKind) {
			return got(c)
		}
		return nil
	}}
}

// BlockedWith expects a path that must fail to fail, with one of kinds.
func BlockedWith(kinds ...report.ErrorKind) Result {
	return Result{label: "is blocked, as expected, with " + kindList(kinds), match: func(c matrix.Check) error {
		if c.OK || c.Expected != report.ExpectFail || !slices.Contains(kinds, c.ErrorKind) {
			return got(c)
		}
		return nil
	}}
}

// Answers expects the path to answer, whatever `make check` expects of it:
// a path that must fail and works shows a hole.
var Answers = Result{label: "answers", match: func(c matrix.Check) error {
	if !c.OK {
		return got(c)
	}
	return nil
}}

// Skipped expects the method not to be tried here, which counts as skipped.
var Skipped = Result{label: "is skipped (`unconfigured`)", match: func(c matrix.Check) error {
	if c.Outcome() != report.OutcomeSkip {
		return got(c)
	}
	return nil
}}

// got says what a check showed instead, with its error, so that a failed
// observation can be understood from the runner's output alone.
func got(c matrix.Check) error {
	if c.Error == "" {
		return fmt.Errorf("got %s", outcome(c))
	}
	return fmt.Errorf("got %s: %s", outcome(c), c.Error)
}

func kindList(kinds []report.ErrorKind) string {
	quoted := make([]string, len(kinds))
	for i, k := range kinds {
		quoted[i] = "`" + string(k) + "`"
	}
	return strings.Join(quoted, " or ")
}

// Path expects every check of a path id, from every frontend that reported
// it, to show Is. With Prefix, ID is the start of the ids (e.g. every
// headless row).
type Path struct {
	ID     string
	Prefix bool
	Is     Result
	// Why is appended to the text.
	Why string
}

// Text implements Expectation.
func (p Path) Text() string {
	id := "`" + p.ID + "`"
	if p.Prefix {
		id = "every `" + p.ID + "*` row"
	}
	return withWhy(id+" "+p.Is.label, p.Why)
}

// Covers implements Covering.
func (p Path) Covers(id string) bool {
	return id == p.ID || p.Prefix && strings.HasPrefix(id, p.ID)
}

// Check implements Expectation.
func (p Path) Check(_ context.Context, _ *Env, s *State) error {
	checks := s.Paths(p.ID)
	if p.Prefix {
		checks = s.PathsWithPrefix(p.ID)
	}
	if len(checks) == 0 {
		return fmt.Errorf("%s: not in the report%s", p.ID, s.reportErrors())
	}
	var bad []string
	for _, c := range checks {
		if err := p.Is.match(c); err != nil {
			bad = append(bad, key(c)+": "+err.Error())
		}
	}
	if len(bad) > 0 {
		return errors.New(strings.Join(slices.Compact(slices.Sorted(slices.Values(bad))), "; "))
	}
	return nil
}

// Rows expects N distinct path ids that start with Prefix, e.g. one
// headless row per backend pod.
type Rows struct {
	Prefix string
	N      int
	Why    string
}

// Text implements Expectation.
func (r Rows) Text() string {
	return withWhy(fmt.Sprintf("%d `%s*` rows", r.N, r.Prefix), r.Why)
}

// Covers implements Covering.
func (r Rows) Covers(id string) bool { return strings.HasPrefix(id, r.Prefix) }

// Check implements Expectation.
func (r Rows) Check(_ context.Context, _ *Env, s *State) error {
	ids := map[string]bool{}
	for _, c := range s.PathsWithPrefix(r.Prefix) {
		ids[c.ID] = true
	}
	if len(ids) != r.N {
		return fmt.Errorf("%d %s* rows: %v", len(ids), r.Prefix, slices.Sorted(maps.Keys(ids)))
	}
	return nil
}

// CheckPasses expects `make check` to pass (true) or to fail (false).
type CheckPasses bool

// Text implements Expectation.
func (p CheckPasses) Text() string {
	if p {
		return "`make check` passes: every path as it must be"
	}
	return "`make check` fails (its summary starts with `FAIL:` and it exits 1)"
}

// Check implements Expectation.
func (p CheckPasses) Check(_ context.Context, _ *Env, s *State) error {
	if s.Result.Passed() != bool(p) {
		return fmt.Errorf("make check: %s", s.Result.Summary())
	}
	return nil
}

// Observed is an expectation written as a function, for what the path
// expectations cannot say: a variable, a DNS answer, a log line.
type Observed struct {
	Says string
	// Paths are the path ids the observation is about, if any; an id
	// ending in "*" stands for every id it starts.
	Paths []string
	Holds func(ctx context.Context, env *Env, s *State) error
}

// Text implements Expectation.
func (o Observed) Text() string { return o.Says }

// Covers implements Covering.
func (o Observed) Covers(id string) bool {
	return slices.ContainsFunc(o.Paths, func(p string) bool {
		prefix, wild := strings.CutSuffix(p, "*")
		return p == id || wild && strings.HasPrefix(id, prefix)
	})
}

// Check implements Expectation.
func (o Observed) Check(ctx context.Context, env *Env, s *State) error { return o.Holds(ctx, env, s) }

// OnlyOn narrows an expectation to one provider ("kind" or "local"); on the
// other it is not checked, and the docs say where it holds.
type OnlyOn struct {
	Provider string
	Expectation
}

// Text implements Expectation.
func (o OnlyOn) Text() string { return "On " + o.Provider + ": " + o.Expectation.Text() }

// Check implements Expectation.
func (o OnlyOn) Check(ctx context.Context, env *Env, s *State) error {
	if env.Provider != o.Provider {
		return nil
	}
	return o.Expectation.Check(ctx, env, s)
}

// Covers implements Covering.
func (o OnlyOn) Covers(id string) bool {
	c, ok := o.Expectation.(Covering)
	return ok && c.Covers(id)
}

// WithPolicy is an expectation that needs a network plugin that enforces
// NetworkPolicy; on a cluster without one it is not checked.
type WithPolicy struct{ Expectation }

// Text implements Expectation.
func (w WithPolicy) Text() string {
	return w.Expectation.Text() + " (where the network plugin enforces NetworkPolicy)"
}

// Check implements Expectation.
func (w WithPolicy) Check(ctx context.Context, env *Env, s *State) error {
	if !env.EnforcesPolicy {
		return nil
	}
	return w.Expectation.Check(ctx, env, s)
}

// Covers implements Covering.
func (w WithPolicy) Covers(id string) bool {
	c, ok := w.Expectation.(Covering)
	return ok && c.Covers(id)
}

func withWhy(s, why string) string {
	if why == "" {
		return s
	}
	return s + ": " + why
}
