package testlog

import (
	"bytes"
	"encoding/xml"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/podpaths/podpaths/lab/junit"
)

// testdata/run.jsonl is real `go test -json` output of a package with a
// passing test that leaves a note, and a group with a passing, a skipped
// and a failing subtest.
func readFixture(t *testing.T) (*Log, string) {
	t.Helper()
	f, err := os.Open("testdata/run.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() }) //nolint:errcheck // read-only
	var echo bytes.Buffer
	l, err := Read(f, &echo, "")
	if err != nil {
		t.Fatal(err)
	}
	return l, echo.String()
}

func TestReadEchoesTheVerboseOutput(t *testing.T) {
	t.Parallel()
	_, echo := readFixture(t)
	for _, want := range []string{"=== RUN   TestGroup/skip\n", "    a_test.go:10: got refused, want ok\n", "FAIL\texample.com/tl\t"} {
		if !strings.Contains(echo, want) {
			t.Errorf("echo lacks %q:\n%s", want, echo)
		}
	}
}

func TestReadHoldsOtherPackagesUntilTheyEnd(t *testing.T) {
	t.Parallel()
	stream := strings.Join([]string{
		`{"Action":"output","Package":"e2e","Test":"TestA","Output":"=== RUN   TestA\n"}`,
		`{"Action":"output","Package":"unit","Test":"TestU","Output":"=== RUN   TestU\n"}`,
		`{"Action":"output","Package":"e2e","Test":"TestA","Output":"--- PASS: TestA (0.00s)\n"}`,
		`{"Action":"output","Package":"unit","Output":"ok  \tunit\t0.1s\n"}`,
		`{"Action":"pass","Package":"unit"}`,
		`{"Action":"output","Package":"e2e","Output":"ok  \te2e\t9s\n"}`,
		`{"Action":"pass","Package":"e2e"}`,
		`not json: a go error message`,
	}, "\n")
	var echo bytes.Buffer
	if _, err := Read(strings.NewReader(stream), &echo, "e2e"); err != nil {
		t.Fatal(err)
	}
	want := "=== RUN   TestA\n--- PASS: TestA (0.00s)\n=== RUN   TestU\nok  \tunit\t0.1s\nok  \te2e\t9s\nnot json: a go error message\n"
	if echo.String() != want {
		t.Errorf("echo =\n%s\nwant\n%s", echo.String(), want)
	}
}

func TestSummaryCountsLeavesAsPathsAndTopLevelTestsAsActions(t *testing.T) {
	t.Parallel()
	l, _ := readFixture(t)
	s := l.Summary("example.com/tl")
	if s.Paths != 4 || s.Actions != 2 || s.OK != 2 || s.Failed != 1 || s.Skipped != 1 {
		t.Errorf("summary = %+v, want 4 paths, 2 actions, 2 ok, 1 failed, 1 skipped", s)
	}
	want := "FAIL: 1 of 3 paths failed (2 actions), 1 skipped (TestGroup/skip: needs 2 nodes, cluster has 1)"
	if got := s.String(); got != want {
		t.Errorf("summary line = %q, want %q", got, want)
	}
	if !l.Failed() {
		t.Error("Failed() = false for a run with a failed test")
	}
	if got := strings.Join(l.Notes, "|"); got != "rolling restart: 42 requests, 0 failed" {
		t.Errorf("notes = %q, want the summary: line of TestOK", got)
	}
}

func TestSummaryOfAPassingRunMatchesMakeCheck(t *testing.T) {
	t.Parallel()
	l := &Log{tests: map[string]*Test{}, packages: map[string]*Package{}}
	for _, ev := range []Event{
		{Action: "run", Package: "p", Test: "TestA"},
		{Action: "pass", Package: "p", Test: "TestA"},
		{Action: "run", Package: "p", Test: "TestB"},
		{Action: "run", Package: "p", Test: "TestB/x"},
		{Action: "output", Package: "p", Test: "TestB/x", Output: "    b_test.go:3: one node only\n"},
		{Action: "skip", Package: "p", Test: "TestB/x"},
		{Action: "run", Package: "p", Test: "TestB/y"},
		{Action: "pass", Package: "p", Test: "TestB/y"},
		{Action: "pass", Package: "p", Test: "TestB"},
		{Action: "pass", Package: "p"},
	} {
		l.Add(ev)
	}
	want := "All 2 paths (2 actions) ok, 1 skipped (TestB/x: one node only)"
	if got := l.Summary("p").String(); got != want || l.Failed() {
		t.Errorf("summary = %q (failed %t), want %q", got, l.Failed(), want)
	}
}

func TestUnfinishedTestsFail(t *testing.T) {
	t.Parallel()
	// A binary killed by -timeout: the test started, nothing ended.
	l := &Log{tests: map[string]*Test{}, packages: map[string]*Package{}}
	l.Add(Event{Action: "run", Package: "p", Test: "TestSlow"})
	l.Add(Event{Action: "output", Package: "p", Output: "panic: test timed out after 30m0s\n"})
	s := l.Summary("p")
	if s.Failed != 1 || !l.Failed() {
		t.Errorf("summary %+v, Failed() %t; want the unfinished test failed", s, l.Failed())
	}
	if r := l.Tests("p")[0].Reason(); !strings.Contains(r, "never finished") {
		t.Errorf("reason = %q, want it to say the test never finished", r)
	}
}

func TestFailedPackageWithoutFailedTestCounts(t *testing.T) {
	t.Parallel()
	// TestMain returned non-zero before any test ran.
	l := &Log{tests: map[string]*Test{}, packages: map[string]*Package{}}
	l.Add(Event{Action: "output", Package: "p", Output: "e2e: list nodes: connection refused\n"})
	l.Add(Event{Action: "fail", Package: "p"})
	if got := l.Summary("p").String(); got != "FAIL: 1 of 1 paths failed (0 actions), 0 skipped" {
		t.Errorf("summary = %q, want one failed path", got)
	}
	var b bytes.Buffer
	if err := l.WriteJUnit(&b, "e2e", time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `<testcase name="TestMain" classname="p"`) || !strings.Contains(b.String(), "connection refused") {
		t.Errorf("junit lacks the TestMain failure with its output:\n%s", b.String())
	}
}

func TestWriteJUnit(t *testing.T) {
	t.Parallel()
	l, _ := readFixture(t)
	var b bytes.Buffer
	if err := l.WriteJUnit(&b, "podpaths e2e", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	var doc junit.Suites
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("junit does not parse: %v\n%s", err, b.String())
	}
	if doc.Tests != 4 || doc.Failures != 1 || doc.Skipped != 1 || len(doc.Suites) != 1 {
		t.Fatalf("junit totals tests/failures/skipped/suites = %d/%d/%d/%d, want 4/1/1/1", doc.Tests, doc.Failures, doc.Skipped, len(doc.Suites))
	}
	cases := map[string]junit.Case{}
	for _, c := range doc.Suites[0].Cases {
		cases[c.Name] = c
	}
	if c := cases["TestGroup/fail"]; c.Failure == nil || c.Failure.Message != "got refused, want ok" {
		t.Errorf("failing case = %+v, want a failure with the test's message", c)
	}
	if c := cases["TestGroup/skip"]; c.Skipped == nil || c.Skipped.Message != "needs 2 nodes, cluster has 1" {
		t.Errorf("skipped case = %+v, want the skip reason", c)
	}
	if _, ok := cases["TestGroup"]; ok {
		t.Error("the parent TestGroup is a case; only leaves should be")
	}
}
