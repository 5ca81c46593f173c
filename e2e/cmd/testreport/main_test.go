package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRunPrintsTheSummaryAndWritesJUnit(t *testing.T) {
	t.Parallel()
	in, err := os.ReadFile("../../internal/testlog/testdata/run.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	junit := filepath.Join(t.TempDir(), "e2e.xml")
	var out bytes.Buffer
	err = run([]string{"--junit", junit, "--package", "example.com/tl"}, bytes.NewReader(in), &out, time.Now())
	if !errors.Is(err, errFailed) {
		t.Errorf("run of a failing stream: err = %v, want errFailed", err)
	}
	want := "rolling restart: 42 requests, 0 failed\nfail: TestGroup/fail after 0s\nFAIL: 1 of 3 paths failed (2 actions), 1 skipped (TestGroup/skip: needs 2 nodes, cluster has 1)\n"
	if !strings.HasSuffix(out.String(), want) {
		t.Errorf("output ends with %q, want %q", tail(out.String(), 200), want)
	}
	xml, err := os.ReadFile(junit)
	if err != nil || !bytes.Contains(xml, []byte(`<testcase name="TestGroup/fail"`)) {
		t.Errorf("junit file: %v\n%s", err, xml)
	}
}

func TestRunRejectsStrayArguments(t *testing.T) {
	t.Parallel()
	if err := run([]string{"extra"}, strings.NewReader(""), &bytes.Buffer{}, time.Now()); err == nil {
		t.Error("run with a stray argument: no error")
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

// passingWithASkip is a go test -json stream in which TestSkip skips and
// everything else passes.
const passingWithASkip = `{"Action":"start","Package":"example.com/tl"}
{"Action":"run","Package":"example.com/tl","Test":"TestOK"}
{"Action":"pass","Package":"example.com/tl","Test":"TestOK","Elapsed":0}
{"Action":"run","Package":"example.com/tl","Test":"TestSkip/on-kind"}
{"Action":"output","Package":"example.com/tl","Test":"TestSkip/on-kind","Output":"    a_test.go:9: kind has no outside client\n"}
{"Action":"skip","Package":"example.com/tl","Test":"TestSkip/on-kind","Elapsed":0}
{"Action":"pass","Package":"example.com/tl","Elapsed":0.003}
`

func TestRunEnforcesTheSkipBudget(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, body string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	for _, tc := range []struct {
		name, budget string
		ok           bool
	}{
		{"an empty budget", "# nothing may skip\n", false},
		{"a budget naming another test", "TestOK\n", false},
		{"a pattern that matches part of the name only", "TestSkip\n", false},
		{"a budget naming the test", "TestSkip/.* # kind has no outside client\n", true},
	} {
		var out bytes.Buffer
		args := []string{"--package", "example.com/tl", "--skip-budget", write(tc.name, tc.budget)}
		err := run(args, strings.NewReader(passingWithASkip), &out, time.Now())
		if tc.ok && err != nil {
			t.Errorf("%s: err = %v, want none\n%s", tc.name, err, out.String())
		}
		if !tc.ok && (!errors.Is(err, errFailed) || !strings.Contains(out.String(), "skip budget: TestSkip/on-kind skipped")) {
			t.Errorf("%s: err = %v, want errFailed and the skip named\n%s", tc.name, err, out.String())
		}
	}
	if err := run([]string{"--package", "example.com/tl"}, strings.NewReader(passingWithASkip), &bytes.Buffer{}, time.Now()); err != nil {
		t.Errorf("no budget: err = %v, want any skip allowed", err)
	}
	if err := run([]string{"--skip-budget", write("bad", "(\n")}, strings.NewReader(passingWithASkip), &bytes.Buffer{}, time.Now()); err == nil || errors.Is(err, errFailed) {
		t.Errorf("a budget that does not parse: err = %v, want it named", err)
	}
}
