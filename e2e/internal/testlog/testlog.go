// Package testlog reads the event stream of `go test -json`: it echoes the
// text a person would have seen with -v, keeps each test's outcome, and
// turns them into the suite's summary line (the same line `make check`
// prints, from lab/matrix) and JUnit XML for CI.
//
// Reading the stream, rather than recording inside the test binary, sees
// everything: a panic or a -timeout that kills the binary still shows up as
// the tests that never finished.
package testlog

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/podpaths/podpaths/lab/matrix"
)

// Event is one line of `go test -json` (cmd/test2json), as decoded: the
// JSON keys are the field names.
type Event struct {
	Time                                      time.Time
	Action, Package, ImportPath, Test, Output string
	Elapsed                                   float64 // seconds
}

// Outcome is how a test or package ended.
type Outcome string

// Outcomes; a test that started and never ended is OutcomeUnfinished.
const (
	OutcomePass       Outcome = "pass"
	OutcomeFail       Outcome = "fail"
	OutcomeSkip       Outcome = "skip"
	OutcomeUnfinished Outcome = "unfinished"
)

// Test is one test or subtest.
type Test struct {
	Package string
	Name    string
	Outcome Outcome
	Elapsed time.Duration
	// Output is every line the test printed, framing included.
	Output []string
}

// Package is one test binary's run.
type Package struct {
	Name    string
	Outcome Outcome
	Elapsed time.Duration
	// Output is what was printed outside any test: TestMain, a build
	// failure, a panic that killed the binary.
	Output []string
}

// Log is a whole `go test -json` run.
type Log struct {
	tests    map[string]*Test
	order    []string
	packages map[string]*Package
	pkgOrder []string
	// Notes are the lines tests logged as "summary: ...", for the end of
	// the run (the rollout's request count, the time to every path ok).
	Notes []string
}

// Read reads events until EOF and echoes their output to echo: the output
// of package live as it comes, so that a long suite shows its progress, and
// that of every other package in one piece when it ends, so that packages
// running in parallel do not interleave. A line that is not an event (go's
// own error messages) is echoed as it is.
func Read(r io.Reader, echo io.Writer, live string) (*Log, error) {
	l := &Log{tests: map[string]*Test{}, packages: map[string]*Package{}}
	held := map[string]*strings.Builder{}
	var order []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		var ev Event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &ev) != nil || ev.Action == "" {
			if _, err := fmt.Fprintf(echo, "%s\n", line); err != nil {
				return l, fmt.Errorf("echo: %w", err)
			}
			continue
		}
		l.Add(ev)
		pkg := ev.Package
		if pkg == "" {
			pkg = ev.ImportPath
		}
		if pkg == live || live == "" {
			if _, err := io.WriteString(echo, ev.Output); err != nil {
				return l, fmt.Errorf("echo: %w", err)
			}
			continue
		}
		b, ok := held[pkg]
		if !ok {
			b = &strings.Builder{}
			held[pkg] = b
			order = append(order, pkg)
		}
		b.WriteString(ev.Output)
		if ev.Test == "" && (ev.Action == "pass" || ev.Action == "fail" || ev.Action == "skip") {
			if _, err := io.WriteString(echo, b.String()); err != nil {
				return l, fmt.Errorf("echo: %w", err)
			}
			b.Reset()
		}
	}
	if err := sc.Err(); err != nil {
		return l, fmt.Errorf("read go test -json: %w", err)
	}
	// Whatever a package printed without ending (a killed binary).
	for _, pkg := range order {
		if _, err := io.WriteString(echo, held[pkg].String()); err != nil {
			return l, fmt.Errorf("echo: %w", err)
		}
	}
	return l, nil
}

// Add records one event.
func (l *Log) Add(ev Event) {
	pkgName := ev.Package
	if pkgName == "" {
		pkgName = ev.ImportPath
	}
	if pkgName == "" {
		return
	}
	p := l.pkg(pkgName)
	if ev.Output != "" {
		if note, ok := noteOf(ev.Output); ok {
			l.Notes = append(l.Notes, note)
		}
	}
	if ev.Test == "" {
		switch ev.Action {
		case "output", "build-output":
			p.Output = append(p.Output, ev.Output)
		case "pass", "fail", "skip":
			p.Outcome = Outcome(ev.Action)
			p.Elapsed = seconds(ev.Elapsed)
		case "build-fail":
			p.Outcome = OutcomeFail
		}
		return
	}
	t := l.test(pkgName, ev.Test)
	switch ev.Action {
	case "output":
		t.Output = append(t.Output, ev.Output)
	case "pass", "fail", "skip":
		t.Outcome = Outcome(ev.Action)
		t.Elapsed = seconds(ev.Elapsed)
	}
}

func (l *Log) pkg(name string) *Package {
	p, ok := l.packages[name]
	if !ok {
		p = &Package{Name: name, Outcome: OutcomeUnfinished}
		l.packages[name] = p
		l.pkgOrder = append(l.pkgOrder, name)
	}
	return p
}

func (l *Log) test(pkg, name string) *Test {
	k := pkg + " " + name
	t, ok := l.tests[k]
	if !ok {
		t = &Test{Package: pkg, Name: name, Outcome: OutcomeUnfinished}
		l.tests[k] = t
		l.order = append(l.order, k)
	}
	return t
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// logLine is a line that t.Log, t.Error or t.Skip printed:
// "    file_test.go:42: message".
var logLine = regexp.MustCompile(`^\s+[\w.-]+\.go:\d+: (.*)$`)

// noteOf returns the text of a "summary: ..." line, logged by a test or
// printed by TestMain.
func noteOf(output string) (string, bool) {
	line := strings.TrimRight(output, "\n")
	if m := logLine.FindStringSubmatch(line); m != nil {
		line = m[1]
	}
	return strings.CutPrefix(line, "summary: ")
}

// Tests returns the tests of a package in the order they started; all
// packages when pkg is "".
func (l *Log) Tests(pkg string) []*Test {
	var out []*Test
	for _, k := range l.order {
		if t := l.tests[k]; pkg == "" || t.Package == pkg {
			out = append(out, t)
		}
	}
	return out
}

// Leaves returns the tests of a package that ran no subtests: each one is
// an assertion of its own.
func (l *Log) Leaves(pkg string) []*Test {
	tests := l.Tests(pkg)
	var out []*Test
	for _, t := range tests {
		parent := slices.ContainsFunc(tests, func(o *Test) bool {
			return o.Package == t.Package && strings.HasPrefix(o.Name, t.Name+"/")
		})
		if !parent {
			out = append(out, t)
		}
	}
	return out
}

// Reason is why a test was skipped or failed: the last line it logged
// (t.Skip's message is the last thing a skipped test prints).
func (t *Test) Reason() string {
	for _, line := range slices.Backward(t.Output) {
		if m := logLine.FindStringSubmatch(strings.TrimRight(line, "\n")); m != nil {
			return m[1]
		}
	}
	if t.Outcome == OutcomeUnfinished {
		return "never finished: the test binary ended first (timeout or panic)"
	}
	return ""
}

// Summary counts the assertions of pkg the way `make check` counts paths:
// every leaf test is a path, every top-level test an action. A failed
// package with no failed test (TestMain, a build error, a crash) counts as
// one failed path, so it cannot pass unnoticed.
func (l *Log) Summary(pkg string) matrix.Summary {
	var s matrix.Summary
	failed := false
	for _, t := range l.Leaves(pkg) {
		s.Paths++
		switch t.Outcome {
		case OutcomePass:
			s.OK++
		case OutcomeSkip:
			s.Skipped++
			s.SkipReasons = append(s.SkipReasons, t.Name+": "+t.Reason())
		default:
			s.Failed++
			failed = true
		}
	}
	for _, t := range l.Tests(pkg) {
		if !strings.Contains(t.Name, "/") {
			s.Actions++
		}
	}
	if p, ok := l.packages[pkg]; ok && p.Outcome != OutcomePass && p.Outcome != OutcomeSkip && !failed {
		s.Paths++
		s.Failed++
	}
	return s
}

// Failed reports whether any package or test failed or never finished.
func (l *Log) Failed() bool {
	for _, p := range l.packages {
		if p.Outcome == OutcomeFail || p.Outcome == OutcomeUnfinished {
			return true
		}
	}
	for _, t := range l.tests {
		if t.Outcome == OutcomeFail || t.Outcome == OutcomeUnfinished {
			return true
		}
	}
	return false
}
