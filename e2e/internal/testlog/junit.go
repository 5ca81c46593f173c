package testlog

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
)

// JUnit XML, the subset CI systems read: a testsuite per package, a testcase
// per leaf test, failure and skipped elements with the test's own output.
type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Skipped  int          `xml:"skipped,attr"`
		Time     string       `xml:"time,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name      string      `xml:"name,attr"`
		Tests     int         `xml:"tests,attr"`
		Failures  int         `xml:"failures,attr"`
		Errors    int         `xml:"errors,attr"`
		Skipped   int         `xml:"skipped,attr"`
		Time      string      `xml:"time,attr"`
		Timestamp string      `xml:"timestamp,attr,omitempty"`
		Cases     []junitCase `xml:"testcase"`
		SystemOut string      `xml:"system-out,omitempty"`
	}
	junitCase struct {
		Name      string        `xml:"name,attr"`
		Classname string        `xml:"classname,attr"`
		Time      string        `xml:"time,attr"`
		Failure   *junitFailure `xml:"failure,omitempty"`
		Skipped   *junitSkipped `xml:"skipped,omitempty"`
		SystemOut string        `xml:"system-out,omitempty"`
	}
	junitFailure struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Text    string `xml:",chardata"`
	}
	junitSkipped struct {
		Message string `xml:"message,attr"`
	}
)

// WriteJUnit writes every package of the run as JUnit XML; started stamps
// the suites.
func (l *Log) WriteJUnit(w io.Writer, name string, started time.Time) error {
	doc := junitSuites{Name: name}
	var total time.Duration
	for _, pkgName := range l.pkgOrder {
		p := l.packages[pkgName]
		s := junitSuite{Name: pkgName, Time: secs(p.Elapsed), Timestamp: started.UTC().Format(time.RFC3339)}
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
			s.Cases = append(s.Cases, junitCase{
				Name: "TestMain", Classname: pkgName, Time: secs(p.Elapsed),
				Failure: &junitFailure{Message: "package " + pkgName + " failed outside any test", Type: "fail", Text: strings.Join(p.Output, "")},
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
	doc.Time = secs(total)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	return nil
}

func caseOf(t *Test) junitCase {
	c := junitCase{Name: t.Name, Classname: t.Package, Time: secs(t.Elapsed)}
	out := strings.Join(t.Output, "")
	switch t.Outcome {
	case OutcomePass:
		c.SystemOut = out
	case OutcomeSkip:
		c.Skipped = &junitSkipped{Message: t.Reason()}
	default:
		c.Failure = &junitFailure{Message: t.Reason(), Type: string(t.Outcome), Text: out}
	}
	return c
}

func secs(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }
