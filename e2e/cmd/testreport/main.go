// Command testreport reads `go test -json` on stdin, prints what `go test -v`
// would have printed (the e2e package as it runs, every other package in one
// piece when it ends), then the notes the tests left ("summary: ..." lines),
// a line for each test that failed ("fail: TestX/y after 3s"), and the
// suite's summary line, in the format of `make check`:
//
//	All N paths (M actions) ok, K skipped (reason)
//
// where a path is an assertion (a test without subtests) and an action a
// top-level test of the summarized package. With --junit it also writes
// JUnit XML. It exits 1 when anything failed or never finished, or when a
// test skipped that --skip-budget does not allow.
//
//	go test -json -tags e2e ./... | testreport --junit e2e.xml --skip-budget skips/local.txt
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/podpaths/podpaths/e2e/internal/testlog"
)

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout, time.Now()); err != nil {
		if !errors.Is(err, errFailed) {
			fmt.Fprintln(os.Stderr, "testreport:", err)
		}
		os.Exit(1)
	}
}

// errFailed is a run that failed; the summary line already said so.
var errFailed = errors.New("tests failed")

func run(args []string, stdin io.Reader, stdout io.Writer, started time.Time) error {
	fs := flag.NewFlagSet("testreport", flag.ContinueOnError)
	junit := fs.String("junit", "", "write JUnit XML to this file")
	pkg := fs.String("package", "github.com/podpaths/podpaths/e2e", "the package whose tests the summary line counts and whose output is shown as it comes")
	name := fs.String("name", "podpaths e2e", "the name of the suite in the JUnit XML")
	budget := fs.String("skip-budget", "", "a file naming the tests that may skip, one regular expression per line (# starts a comment); "+
		"any other skip fails the run. Without it, any skip is allowed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	log, err := testlog.Read(stdin, stdout, *pkg)
	if err != nil {
		return err
	}
	sum := log.Summary(*pkg)
	for _, n := range log.Notes {
		if _, err := fmt.Fprintln(stdout, n); err != nil {
			return err
		}
	}
	// The failed tests' names come last but one, where a reader of a long
	// CI log looks first.
	for _, t := range log.Leaves(*pkg) {
		if t.Outcome == testlog.OutcomeFail || t.Outcome == testlog.OutcomeUnfinished {
			if _, err := fmt.Fprintf(stdout, "%s: %s after %s\n", t.Outcome, t.Name, t.Elapsed.Round(time.Second)); err != nil {
				return err
			}
		}
	}
	if _, err := fmt.Fprintln(stdout, sum.String()); err != nil {
		return err
	}
	if *junit != "" {
		if err := writeJUnit(*junit, log, *name, started); err != nil {
			return err
		}
	}
	overBudget := false
	if *budget != "" {
		allowed, err := readBudget(*budget)
		if err != nil {
			return err
		}
		unexpected := unexpectedSkips(log.Leaves(*pkg), allowed)
		for _, t := range unexpected {
			if _, err := fmt.Fprintf(stdout, "skip budget: %s skipped, which %s does not allow: %s\n", t.Name, *budget, t.Reason()); err != nil {
				return err
			}
		}
		overBudget = len(unexpected) > 0
	}
	if log.Failed() || !sum.Passed() || overBudget {
		return errFailed
	}
	return nil
}

// readBudget reads the skip budget: one regular expression per line, which
// must match a test's whole name; blank lines and # comments are ignored.
func readBudget(path string) ([]*regexp.Regexp, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("skip budget: %w", err)
	}
	var allowed []*regexp.Regexp
	for i, line := range strings.Split(string(raw), "\n") {
		line, _, _ = strings.Cut(line, "#")
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		re, err := regexp.Compile("^(?:" + line + ")$")
		if err != nil {
			return nil, fmt.Errorf("skip budget %s:%d: %w", path, i+1, err)
		}
		allowed = append(allowed, re)
	}
	return allowed, nil
}

// unexpectedSkips are the skipped tests that no allowed pattern names.
func unexpectedSkips(tests []*testlog.Test, allowed []*regexp.Regexp) []*testlog.Test {
	var out []*testlog.Test
	for _, t := range tests {
		if t.Outcome != testlog.OutcomeSkip {
			continue
		}
		if !slices.ContainsFunc(allowed, func(re *regexp.Regexp) bool { return re.MatchString(t.Name) }) {
			out = append(out, t)
		}
	}
	return out
}

func writeJUnit(path string, log *testlog.Log, name string, started time.Time) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("junit: %w", cerr)
		}
	}()
	return log.WriteJUnit(f, name, started)
}
