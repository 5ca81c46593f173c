package matrix

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/podpaths/podpaths/lab/junit"
	"github.com/podpaths/podpaths/platform/report"
)

func TestLine(t *testing.T) {
	t.Parallel()
	by := &report.Pod{Pod: "backend-1", PodIP: "10.244.2.5", Node: "podpaths-worker2"}
	base := report.Path{From: "frontend", To: "backend", Method: report.MethodDNS, Expected: report.ExpectOK, LatencyMS: 1.74}
	with := func(f func(p *report.Path)) Check {
		p := base
		f(&p)
		return Check{Path: p}
	}
	tests := []struct {
		name  string
		check Check
		want  string
	}{
		{
			name:  "ok with the answering pod and node",
			check: with(func(p *report.Path) { p.OK, p.AnsweredBy = true, by }),
			want:  "frontend -> backend via dns: ok backend-1@podpaths-worker2 1.7ms",
		},
		{
			name:  "ok without a node",
			check: with(func(p *report.Path) { p.OK, p.AnsweredBy = true, &report.Pod{Pod: "frontend-x"} }),
			want:  "frontend -> backend via dns: ok frontend-x 1.7ms",
		},
		{
			name:  "ok without an answering pod",
			check: with(func(p *report.Path) { p.OK = true }),
			want:  "frontend -> backend via dns: ok - 1.7ms",
		},
		{
			name: "failed with kind and error",
			check: with(func(p *report.Path) {
				p.ErrorKind, p.Error, p.LatencyMS = report.ErrorTimeout, "context deadline exceeded", 2000
			}),
			want: "frontend -> backend via dns: FAIL (timeout) - 2000.0ms: context deadline exceeded",
		},
		{
			name:  "failed without a kind counts as other",
			check: with(func(*report.Path) {}),
			want:  "frontend -> backend via dns: FAIL (other) - 1.7ms",
		},
		{
			name: "expected failure that failed",
			check: with(func(p *report.Path) {
				p.Expected, p.ErrorKind, p.Error = report.ExpectFail, report.ErrorRefused, "connection refused"
			}),
			want: "frontend -> backend via dns: ok (refused, expected) - 1.7ms",
		},
		{
			name:  "expected failure that worked",
			check: with(func(p *report.Path) { p.Expected, p.OK, p.AnsweredBy = report.ExpectFail, true, by }),
			want:  "frontend -> backend via dns: FAIL (expected to fail, but it worked) backend-1@podpaths-worker2 1.7ms",
		},
		{
			name: "unconfigured is skipped with its reason",
			check: with(func(p *report.Path) {
				p.ErrorKind, p.Error = report.ErrorUnconfigured, "enableServiceLinks is false"
			}),
			want: "frontend -> backend via dns: skipped (enableServiceLinks is false)",
		},
		{
			name: "detail replaces the answering pod",
			check: Check{Detail: "backend-0=10 backend-1=10 (2 ready)", Path: report.Path{
				From: "frontend", To: "backend", Method: report.MethodSpread, OK: true, Expected: report.ExpectOK, LatencyMS: 40, AnsweredBy: by,
			}},
			want: "frontend -> backend via spread: ok backend-0=10 backend-1=10 (2 ready) 40.0ms",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Line(tt.check); got != tt.want {
				t.Errorf("Line(%+v)\n got %q\nwant %q", tt.check.Path, got, tt.want)
			}
		})
	}
}

// result builds a result from checks given as (outcome kind) shorthands.
func result(actions ...[]Check) Result {
	r := Result{Duration: 1500 * time.Millisecond}
	for i, cs := range actions {
		r.Actions = append(r.Actions, ActionResult{Name: string(rune('a' + i)), Checks: cs})
	}
	return r
}

func passCheck(id string) Check {
	return Check{Path: report.Path{ID: id, From: "a", To: "b", Method: report.MethodDNS, OK: true, Expected: report.ExpectOK}}
}

func failCheck(id string, kind report.ErrorKind) Check {
	return Check{Path: report.Path{ID: id, From: "a", To: "b", Method: report.MethodDNS, ErrorKind: kind, Error: "boom", Expected: report.ExpectOK}}
}

func expectedFailCheck(id string) Check {
	return Check{Path: report.Path{ID: id, From: "a", To: "b", Method: report.MethodStatic, ErrorKind: report.ErrorRefused, Expected: report.ExpectFail}}
}

func skipCheck(id, reason string) Check {
	return Check{Path: report.Path{ID: id, From: "a", To: "b", Method: report.MethodEnv, ErrorKind: report.ErrorUnconfigured, Error: reason, Expected: report.ExpectOK}}
}

func TestSummary(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		result Result
		want   string
		passed bool
	}{
		{
			name:   "all ok, none skipped",
			result: result([]Check{passCheck("p1")}, []Check{passCheck("p2"), passCheck("p3")}),
			want:   "All 3 paths (2 actions) ok, 0 skipped",
			passed: true,
		},
		{
			name: "expected failures count as ok, skips are listed",
			result: result(
				[]Check{passCheck("p1"), expectedFailCheck("x1")},
				[]Check{skipCheck("s1", "no LB address")},
				[]Check{skipCheck("s2", "enableServiceLinks is false"), passCheck("p2")},
				[]Check{skipCheck("s1", "no LB address")},
			),
			want:   "All 3 paths (4 actions) ok, 3 skipped (s1: no LB address; s2: enableServiceLinks is false)",
			passed: true,
		},
		{
			name: "failures",
			result: result(
				[]Check{passCheck("p1"), failCheck("f1", report.ErrorTimeout)},
				[]Check{failCheck("f2", report.ErrorRefused), skipCheck("s1", "why")},
			),
			want:   "FAIL: 2 of 3 paths failed (2 actions), 1 skipped (s1: why)",
			passed: false,
		},
		{
			name:   "everything skipped proves nothing",
			result: result([]Check{skipCheck("s1", "why")}),
			want:   "FAIL: no path ran (1 actions), 1 skipped (s1: why)",
			passed: false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := tt.result.Summary()
			if got := s.String(); got != tt.want {
				t.Errorf("summary\n got %q\nwant %q", got, tt.want)
			}
			if s.Passed() != tt.passed || tt.result.Passed() != tt.passed {
				t.Errorf("Passed: got %v, want %v", s.Passed(), tt.passed)
			}
		})
	}
}

func TestWrite(t *testing.T) {
	t.Parallel()
	r := result([]Check{passCheck("p1")}, []Check{failCheck("f1", report.ErrorRefused)})
	var b bytes.Buffer
	if err := r.Write(&b); err != nil {
		t.Fatalf("Write: %v", err)
	}
	want := "a -> b via dns: ok - 0.0ms\n" +
		"a -> b via dns: FAIL (refused) - 0.0ms: boom\n" +
		"FAIL: 1 of 2 paths failed (2 actions), 0 skipped\n"
	if b.String() != want {
		t.Errorf("Write\n got %q\nwant %q", b.String(), want)
	}
}

func TestWriteJUnit(t *testing.T) {
	t.Parallel()
	r := result(
		[]Check{passCheck("p1"), expectedFailCheck("x1")},
		[]Check{failCheck("f1", report.ErrorTimeout), skipCheck("s1", "no LB address")},
	)
	var b bytes.Buffer
	started := time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)
	if err := r.WriteJUnit(&b, "podpaths check", started); err != nil {
		t.Fatalf("WriteJUnit: %v", err)
	}
	var doc junit.Suites
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("parse junit back: %v\n%s", err, b.String())
	}
	if doc.Tests != 4 || doc.Failures != 1 || doc.Skipped != 1 || len(doc.Suites) != 1 {
		t.Fatalf("testsuites: got tests=%d failures=%d skipped=%d suites=%d, want 4/1/1/1", doc.Tests, doc.Failures, doc.Skipped, len(doc.Suites))
	}
	s := doc.Suites[0]
	if s.Name != "podpaths check" || s.Time != "1.500" || s.Timestamp != "2026-11-26T07:00:00Z" || len(s.Cases) != 4 {
		t.Fatalf("testsuite: got %+v", s)
	}
	byID := map[string]junit.Case{}
	for _, c := range s.Cases {
		byID[strings.SplitN(c.Name, ":", 2)[0]] = c
	}
	if c := byID["p1"]; c.Failure != nil || c.Skipped != nil || c.Classname != "a" {
		t.Errorf("p1: got %+v, want a plain pass in class a", c)
	}
	if c := byID["x1"]; c.Failure != nil {
		t.Errorf("x1 (expected failure): got failure %+v, want a pass", c.Failure)
	}
	if c := byID["f1"]; c.Failure == nil || c.Failure.Type != "timeout" || c.Failure.Text != "boom" || c.Classname != "b" {
		t.Errorf("f1: got %+v, want a timeout failure in class b", c)
	}
	if c := byID["s1"]; c.Skipped == nil || c.Skipped.Message != "no LB address" {
		t.Errorf("s1: got %+v, want skipped with the reason", c)
	}
}
