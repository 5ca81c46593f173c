package workshop

import (
	"context"
	"strings"
	"testing"

	"github.com/podpaths/podpaths/lab/matrix"
	"github.com/podpaths/podpaths/platform/report"
)

// stateOf builds a state from checks, as Observe would from the matrix.
func stateOf(checks ...matrix.Check) *State {
	s := &State{Result: matrix.Result{Actions: []matrix.ActionResult{{Name: "a", Checks: checks}}}, byID: map[string][]matrix.Check{}}
	for _, c := range checks {
		s.byID[c.ID] = append(s.byID[c.ID], c)
	}
	return s
}

func check(id, fromNode string, ok bool, kind report.ErrorKind, expected report.Expectation) matrix.Check {
	return matrix.Check{Path: report.Path{ID: id, From: "frontend", FromNode: fromNode, OK: ok, ErrorKind: kind, Expected: expected}}
}

func TestPathExpectations(t *testing.T) {
	t.Parallel()
	env := &Env{}
	s := stateOf(
		check("env", "a", false, report.ErrorRefused, report.ExpectOK),
		check("env", "b", false, report.ErrorTimeout, report.ExpectOK),
		check("dns", "a", true, "", report.ExpectOK),
		check("local", "b", false, report.ErrorTimeout, report.ExpectFail),
		check("links", "a", false, report.ErrorUnconfigured, report.ExpectOK),
		check("headless-0", "a", true, "", report.ExpectOK),
		check("headless-1", "a", true, "", report.ExpectOK),
		check("hole", "", true, "", report.ExpectFail),
	)
	tests := []struct {
		e    Expectation
		want bool
	}{
		{Path{ID: "dns", Is: Works}, true},
		{Path{ID: "env", Is: Works}, false},
		{Path{ID: "env", Is: FailsWith(report.ErrorRefused)}, false}, // node b timed out
		{Path{ID: "env", Is: FailsWith(report.ErrorRefused, report.ErrorTimeout)}, true},
		{Path{ID: "local", Is: BlockedWith(report.ErrorTimeout)}, true},
		{Path{ID: "local", Is: FailsWith(report.ErrorTimeout)}, true},
		{Path{ID: "env", Is: BlockedWith(report.ErrorTimeout)}, false}, // not expected to fail
		{Path{ID: "links", Is: Skipped}, true},
		{Path{ID: "hole", Is: Answers}, true}, // works, though it must not
		{Path{ID: "hole", Is: Works}, false},
		{Path{ID: "local", Is: Answers}, false},
		{Path{ID: "gone", Is: Works}, false},
		{Path{ID: "headless-", Prefix: true, Is: Works}, true},
		{Rows{Prefix: "headless-", N: 2}, true},
		{Rows{Prefix: "headless-", N: 3}, false},
		{CheckPasses(true), false},
		{CheckPasses(false), true},
		{OnlyOn{Provider: "kind", Expectation: Path{ID: "env", Is: Works}}, true}, // not checked on local
		{WithPolicy{Expectation: Path{ID: "env", Is: Works}}, true},               // not checked without policy
	}
	env.Provider = "local"
	for _, tt := range tests {
		if err := tt.e.Check(context.Background(), env, s); (err == nil) != tt.want {
			t.Errorf("%s: got %v, want holds=%v", tt.e.Text(), err, tt.want)
		}
	}
	if reason := notHere(env, OnlyOn{Provider: "kind", Expectation: CheckPasses(true)}); !strings.Contains(reason, "kind only") {
		t.Errorf("notHere(kind-only on local) = %q, want it to say kind only", reason)
	}
}

func TestDiff(t *testing.T) {
	t.Parallel()
	before := stateOf(check("env", "a", true, "", report.ExpectOK), check("dns", "a", true, "", report.ExpectOK),
		check("gone", "", true, "", report.ExpectOK)).Outcomes()
	after := stateOf(check("env", "a", false, report.ErrorRefused, report.ExpectOK), check("dns", "a", true, "", report.ExpectOK),
		check("new", "", false, report.ErrorTimeout, report.ExpectFail)).Outcomes()
	got := Diff(before, after, func(id string) bool { return id == "env" })
	want := []Change{
		{Key: "env@a", Before: "ok", After: "refused", Predicted: true},
		{Key: "gone", Before: "ok", After: "-"},
		{Key: "new", Before: "-", After: "blocked (timeout, expected)"},
	}
	if len(got) != len(want) {
		t.Fatalf("Diff = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("change %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	marks := []string{"predicted", "no longer reported", "newly reported"}
	for i, c := range got {
		if c.Mark() != marks[i] {
			t.Errorf("change %+v: mark %q, want %q", c, c.Mark(), marks[i])
		}
	}
	if m := (Change{Key: "dns", Before: "ok", After: "dns"}).Mark(); m != "unexpected" {
		t.Errorf("an unpredicted change of result: mark %q, want unexpected", m)
	}
}

func TestMarkdownListsEveryExpectation(t *testing.T) {
	t.Parallel()
	ex := Exercise{Slug: "x", Title: "X", Goal: "g.", Predict: []string{"p?"}, Explain: "e.",
		Steps: []Step{{Name: "s", Do: []Action{shown("kubectl -n podpaths scale statefulset backend --replicas=2")}, Expect: []Expectation{Path{ID: "env", Is: Works}}}}}
	md := Markdown("intro", "outro", []Exercise{ex})
	for _, want := range []string{"## 1. X", "**Goal:** g.", "- p?", "make exercise N=1", "kubectl -n podpaths scale statefulset backend --replicas=2", "- `env` works", "**Explain:** e.", "outro"} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
}

// shown is an action that only has a command to show.
type shown string

func (s shown) Command() string               { return string(s) }
func (shown) Run(context.Context, *Env) error { return nil }
