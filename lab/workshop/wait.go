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

// converge waits until every expectation of step holds, and has kept
// holding for step.Hold; it returns the last state and when the holding
// began.
func converge(ctx context.Context, env *Env, step Step) (*State, time.Time, error) {
	var s *State
	var held streak
	timeout := step.Within
	if timeout == 0 {
		timeout = env.Timeout
	}
	err := waitWithin(ctx, env, timeout, "step "+step.Name, func(ctx context.Context) (string, error) {
		at := time.Now()
		var err error
		if s, err = Observe(ctx, env); err != nil {
			return "", err
		}
		for _, e := range step.Expect {
			if err := e.Check(ctx, env, s); err != nil {
				held.record(false, at)
				return e.Text() + " (now: " + err.Error() + ")", nil
			}
		}
		if held.record(true, at) < step.Hold {
			return fmt.Sprintf("every observation holds; watching that it keeps holding for %s", step.Hold), nil
		}
		return "", nil
	})
	return s, held.since, err
}

// streak is how long observations have held without a break.
type streak struct{ since time.Time }

// record notes an observation made at that held (ok) or not, and returns
// for how long every observation has held, this one included; one that
// does not hold starts the count again.
func (s *streak) record(ok bool, at time.Time) time.Duration {
	if !ok {
		s.since = time.Time{}
		return 0
	}
	if s.since.IsZero() {
		s.since = at
	}
	return at.Sub(s.since)
}

// Printf shows the participant a line of progress on env.Out.
func (env *Env) Printf(format string, args ...any) {
	fmt.Fprintf(env.Out, format, args...) //nolint:errcheck // progress output; nowhere else to report
}
