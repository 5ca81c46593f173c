package matrix

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/podpaths/podpaths/platform/report"
)

// Check is one path the matrix judged: a path the matrix tried itself, or one
// that a pod reported.
type Check struct {
	report.Path
	// Action names the call that produced the check.
	Action string
	// Detail replaces the answering pod in the printed line when one pod says
	// too little, e.g. the replica histogram of a spread.
	Detail string
}

// Outcome is how the check counts: passed, failed or skipped.
func (c Check) Outcome() report.Outcome { return c.Path.Outcome() }

// ActionResult is the checks that one call produced.
type ActionResult struct {
	Name   string
	Checks []Check
}

// Result is a whole run of the matrix.
type Result struct {
	Actions []ActionResult
	// Entry is the way in that the inside actions used, e.g.
	// "nodeport 127.0.0.1:30080"; "" when there was none.
	Entry    string
	Duration time.Duration
}

// Checks returns every check in action order.
func (r Result) Checks() []Check {
	var all []Check
	for _, a := range r.Actions {
		all = append(all, a.Checks...)
	}
	return all
}

// Summary counts the checks.
func (r Result) Summary() Summary {
	s := Summary{Actions: len(r.Actions)}
	for _, c := range r.Checks() {
		s.Paths++
		switch c.Outcome() {
		case report.OutcomePass:
			s.OK++
		case report.OutcomeFail:
			s.Failed++
		case report.OutcomeSkip:
			s.Skipped++
			s.SkipReasons = append(s.SkipReasons, c.ID+": "+c.Error)
		}
	}
	return s
}

// Passed reports whether the run passed: nothing failed and something ran.
func (r Result) Passed() bool { return r.Summary().Passed() }

// Write prints one line per check and then the summary line.
func (r Result) Write(w io.Writer) error {
	var b strings.Builder
	for _, c := range r.Checks() {
		b.WriteString(Line(c))
		b.WriteByte('\n')
	}
	b.WriteString(r.Summary().String())
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

// Summary is the count of a run's checks by outcome.
type Summary struct {
	// Paths counts every check, Actions the calls that produced them.
	Paths, Actions      int
	OK, Failed, Skipped int
	// SkipReasons says, for each skipped check, "id: why".
	SkipReasons []string
}

// Passed reports whether nothing failed and at least one path ran: a run
// where everything was skipped proves nothing.
func (s Summary) Passed() bool { return s.Failed == 0 && s.OK > 0 }

// String is the summary line that `make check` and e2e print:
//
//	All 17 paths (9 actions) ok, 1 skipped (outside-loadbalancer: ...)
//	FAIL: 2 of 17 paths failed (9 actions), 1 skipped (...)
//
// N counts the paths that ran; the skipped ones are counted apart.
func (s Summary) String() string {
	ran := s.OK + s.Failed
	var line string
	switch {
	case s.Failed > 0:
		line = fmt.Sprintf("FAIL: %d of %d paths failed (%d actions), %d skipped", s.Failed, ran, s.Actions, s.Skipped)
	case s.OK == 0:
		line = fmt.Sprintf("FAIL: no path ran (%d actions), %d skipped", s.Actions, s.Skipped)
	default:
		line = fmt.Sprintf("All %d paths (%d actions) ok, %d skipped", ran, s.Actions, s.Skipped)
	}
	if len(s.SkipReasons) > 0 {
		// Reports from several pods repeat the same skip; say it once.
		line += " (" + strings.Join(unique(s.SkipReasons), "; ") + ")"
	}
	return line
}

// unique drops repeated strings, keeping the first of each in order.
func unique(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// Line formats one check as
//
//	from -> to via method: ok|FAIL (error_kind) answered_by latency
//
// A path that failed as expected prints "ok (kind, expected)"; a skipped one
// prints "skipped (reason)"; a failed one ends with its error.
func Line(c Check) string {
	from, to := c.From, c.To
	if c.FromNode != "" {
		// A path between two pods: both ends with their nodes.
		from, to = atNode(from, c.FromNode), atNode(to, c.ToNode)
	}
	head := fmt.Sprintf("%s -> %s via %s: ", from, to, c.Method)
	latency := fmt.Sprintf("%.1fms", c.LatencyMS)
	switch c.Outcome() {
	case report.OutcomeSkip:
		return head + "skipped (" + c.Error + ")"
	case report.OutcomePass:
		if c.Expected == report.ExpectFail {
			return head + fmt.Sprintf("ok (%s, expected) %s %s", kindOf(c), answeredBy(c), latency)
		}
		return head + fmt.Sprintf("ok %s %s", answeredBy(c), latency)
	}
	if c.OK {
		// It worked, but it must not: e.g. a pod reached another pod's loopback port.
		return head + fmt.Sprintf("FAIL (expected to fail, but it worked) %s %s", answeredBy(c), latency)
	}
	line := head + fmt.Sprintf("FAIL (%s) %s %s", kindOf(c), answeredBy(c), latency)
	if c.Error != "" {
		line += ": " + c.Error
	}
	return line
}

// atNode names an end with its node, "frontend@podpaths-a", so that a line
// tells same-node from cross-node; an end that names its node already, or
// has none, stays as it is.
func atNode(end, node string) string {
	if node == "" || strings.Contains(end, node) {
		return end
	}
	return end + "@" + node
}

func kindOf(c Check) report.ErrorKind {
	if c.ErrorKind == report.ErrorNone {
		return report.ErrorOther
	}
	return c.ErrorKind
}

// answeredBy is "pod@node", the detail when one is set, or "-".
func answeredBy(c Check) string {
	switch {
	case c.Detail != "":
		return c.Detail
	case c.AnsweredBy == nil || c.AnsweredBy.Pod == "":
		return "-"
	case c.AnsweredBy.Node == "":
		return c.AnsweredBy.Pod
	default:
		return c.AnsweredBy.Pod + "@" + c.AnsweredBy.Node
	}
}
