package matrix

import (
	"fmt"
	"io"
	"time"

	"github.com/podpaths/podpaths/lab/junit"
	"github.com/podpaths/podpaths/platform/report"
)

// WriteJUnit writes the result as JUnit XML under the suite name, one testcase
// per check; started stamps the suite.
func (r Result) WriteJUnit(w io.Writer, suite string, started time.Time) error {
	s := r.Summary()
	js := junit.Suite{
		Name: suite, Tests: s.Paths, Failures: s.Failed, Skipped: s.Skipped,
		Time: junit.Seconds(r.Duration), Timestamp: started.UTC().Format(time.RFC3339),
	}
	for _, a := range r.Actions {
		for _, c := range a.Checks {
			js.Cases = append(js.Cases, junitCaseOf(a.Name, c))
		}
	}
	return junit.Write(w, junit.Suites{
		Name: suite, Tests: s.Paths, Failures: s.Failed, Skipped: s.Skipped,
		Time: junit.Seconds(r.Duration), Suites: []junit.Suite{js},
	})
}

func junitCaseOf(action string, c Check) junit.Case {
	jc := junit.Case{
		Name:      fmt.Sprintf("%s: %s -> %s via %s", c.ID, c.From, c.To, c.Method),
		Classname: action,
		Time:      junit.Seconds(time.Duration(c.LatencyMS * float64(time.Millisecond))),
	}
	switch c.Outcome() {
	case report.OutcomeSkip:
		jc.Skipped = &junit.Skipped{Message: c.Error}
	case report.OutcomeFail:
		jc.Failure = &junit.Failure{Message: Line(c), Type: string(kindOf(c)), Text: c.Error}
	}
	return jc
}
