package matrix

import (
	"encoding/xml"
	"fmt"
	"io"
	"time"

	"github.com/podpaths/podpaths/platform/report"
)

// JUnit XML, the subset that CI systems read: one testsuite, one testcase per
// check, a failure or skipped element where it applies.
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
	}
	junitCase struct {
		Name      string        `xml:"name,attr"`
		Classname string        `xml:"classname,attr"`
		Time      string        `xml:"time,attr"`
		Failure   *junitFailure `xml:"failure,omitempty"`
		Skipped   *junitSkipped `xml:"skipped,omitempty"`
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

// WriteJUnit writes the result as JUnit XML under the suite name, one testcase
// per check; started stamps the suite.
func (r Result) WriteJUnit(w io.Writer, suite string, started time.Time) error {
	s := r.Summary()
	js := junitSuite{
		Name: suite, Tests: s.Paths, Failures: s.Failed, Skipped: s.Skipped,
		Time: seconds(r.Duration), Timestamp: started.UTC().Format(time.RFC3339),
	}
	for _, a := range r.Actions {
		for _, c := range a.Checks {
			js.Cases = append(js.Cases, junitCaseOf(a.Name, c))
		}
	}
	doc := junitSuites{
		Name: suite, Tests: s.Paths, Failures: s.Failed, Skipped: s.Skipped,
		Time: seconds(r.Duration), Suites: []junitSuite{js},
	}
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

func junitCaseOf(action string, c Check) junitCase {
	jc := junitCase{
		Name:      fmt.Sprintf("%s: %s -> %s via %s", c.ID, c.From, c.To, c.Method),
		Classname: action,
		Time:      seconds(time.Duration(c.LatencyMS * float64(time.Millisecond))),
	}
	switch c.Outcome() {
	case report.OutcomeSkip:
		jc.Skipped = &junitSkipped{Message: c.Error}
	case report.OutcomeFail:
		jc.Failure = &junitFailure{Message: Line(c), Type: string(kindOf(c)), Text: c.Error}
	}
	return jc
}

func seconds(d time.Duration) string {
	return fmt.Sprintf("%.3f", d.Seconds())
}
