// Command testreport reads `go test -json` on stdin, prints what `go test -v`
// would have printed (the e2e package as it runs, every other package in one
// piece when it ends), then the notes the tests left ("summary: ..." lines)
// and the suite's summary line, in the format of `make check`:
//
//	All N paths (M actions) ok, K skipped (reason)
//
// where a path is an assertion (a test without subtests) and an action a
// top-level test of the summarized package. With --junit it also writes
// JUnit XML. It exits 1 when anything failed or never finished.
//
//	go test -json -tags e2e ./... | testreport --junit e2e.xml
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
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
	if _, err := fmt.Fprintln(stdout, sum.String()); err != nil {
		return err
	}
	if *junit != "" {
		if err := writeJUnit(*junit, log, *name, started); err != nil {
			return err
		}
	}
	if log.Failed() || !sum.Passed() {
		return errFailed
	}
	return nil
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
