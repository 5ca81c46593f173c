package testlog

import (
	"io"
	"strings"
	"time"

	"github.com/podpaths/podpaths/lab/junit"
)

// WriteJUnit writes every package of the run as JUnit XML; started stamps
// the suites.
func (l *Log) WriteJUnit(w io.Writer, name string, started time.Time) error {
	doc := junit.Suites{Name: name}
	var total time.Duration
	for _, pkgName := range l.pkgOrder {
		p := l.packages[pkgName]
		s := junit.Suite{Name: pkgName, Time: junit.Seconds(p.Elapsed), Timestamp: started.UTC().Format(time.RFC3339)}
		for _, t := range l.Leaves(pkgName) {
			s.Cases = append(s.Cases, caseOf(t))
			s.Tests++
			switch t.Outcome {
			case OutcomeSkip:
				s.Skipped++
			case OutcomePass:
			default:
				s.Failures++
			}
		}
		if s.Failures == 0 && (p.Outcome == OutcomeFail || p.Outcome == OutcomeUnfinished) {
			// The binary failed outside any test: say so as a case, with
			// what it printed, or the XML would look green.
			s.Cases = append(s.Cases, junit.Case{
				Name: "TestMain", Classname: pkgName, Time: junit.Seconds(p.Elapsed),
				Failure: &junit.Failure{Message: "package " + pkgName + " failed outside any test", Type: "fail", Text: strings.Join(p.Output, "")},
			})
			s.Tests++
			s.Failures++
		}
		if len(s.Cases) == 0 {
			continue
		}
		s.SystemOut = strings.Join(p.Output, "")
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Skipped += s.Skipped
		total += p.Elapsed
		doc.Suites = append(doc.Suites, s)
	}
	doc.Time = junit.Seconds(total)
	return junit.Write(w, doc)
}

func caseOf(t *Test) junit.Case {
	c := junit.Case{Name: t.Name, Classname: t.Package, Time: junit.Seconds(t.Elapsed)}
	out := strings.Join(t.Output, "")
	switch t.Outcome {
	case OutcomePass:
		c.SystemOut = out
	case OutcomeSkip:
		c.Skipped = &junit.Skipped{Message: t.Reason()}
	default:
		c.Failure = &junit.Failure{Message: t.Reason(), Type: string(t.Outcome), Text: out}
	}
	return c
}
