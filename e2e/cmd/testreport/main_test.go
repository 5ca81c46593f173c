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
	want := "rolling restart: 42 requests, 0 failed\nFAIL: 1 of 3 paths failed (2 actions), 1 skipped (TestGroup/skip: needs 2 nodes, cluster has 1)\n"
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
