package workshop

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// DNSWait bounds a step that waits for DNS caches (Step.Within): CoreDNS
// keeps an answer up to 30 s, and a client's resolver or nginx (valid=5s) a
// little longer.
const DNSWait = 2 * time.Minute

// WaitFor polls cond until it reports nothing pending, printing what it
// still waits for whenever that changes, so a participant sees progress
// instead of a silent pause. It gives up after env.Timeout.
func WaitFor(ctx context.Context, env *Env, what string, cond func(context.Context) (pending string, err error)) error {
	return waitWithin(ctx, env, env.Timeout, what, cond)
}

func waitWithin(ctx context.Context, env *Env, timeout time.Duration, what string, cond func(context.Context) (string, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(env.Poll)
	defer tick.Stop()
	last := ""
	for {
		pending, err := cond(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			return fmt.Errorf("%s: %w", what, err)
		case err == nil && pending == "":
			return nil
		case err == nil && pending != last:
			env.Printf("  waiting: %s\n", pending)
			last = pending
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("%s: still waiting after %s: %s", what, timeout, last)
			}
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// converge waits until every expectation of step holds, and returns the
// state that showed it.
func converge(ctx context.Context, env *Env, step Step) (*State, error) {
	var s *State
	timeout := step.Within
	if timeout == 0 {
		timeout = env.Timeout
	}
	err := waitWithin(ctx, env, timeout, "step "+step.Name, func(ctx context.Context) (string, error) {
		var err error
		if s, err = Observe(ctx, env); err != nil {
			return "", err
		}
		for _, e := range step.Expect {
			if err := e.Check(ctx, env, s); err != nil {
				return e.Text() + " (now: " + err.Error() + ")", nil
			}
		}
		return "", nil
	})
	return s, err
}

// Printf shows the participant a line of progress on env.Out.
func (env *Env) Printf(format string, args ...any) {
	fmt.Fprintf(env.Out, format, args...) //nolint:errcheck // progress output; nowhere else to report
}
