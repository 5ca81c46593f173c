package workshop

import (
	"context"
	"fmt"
)

// Summarize folds repeated answers: "sidecar=ok x12, sidecar=refused x40, no answer".
func Summarize(seen []string) string {
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

// Watched is an observation of what an action recorded (Env.Record), such
// as actions.WatchDelete. It exists only in the run that watched, so
// `make exercise-check` does not check it.
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
		return fmt.Errorf("%w: %s", err, Summarize(seen))
	}
	return nil
}
