package dashboard

import (
	"slices"
	"testing"

	"github.com/podpaths/podpaths/platform/report"
)

func TestOutcomeOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		path report.Path
		want outcome
	}{
		{"works as it must", report.Path{OK: true, Expected: report.ExpectOK}, outcome{"pass", "✓", "ok"}},
		{"fails but must work", report.Path{ErrorKind: report.ErrorRefused, Expected: report.ExpectOK}, outcome{"fail", "✗", "failed"}},
		{"blocked as it must be", report.Path{ErrorKind: report.ErrorTimeout, Expected: report.ExpectFail}, outcome{"pass", "✓", "blocked, as expected"}},
		{"gets through but must not", report.Path{OK: true, Expected: report.ExpectFail}, outcome{"fail", "✗", "got through, must not"}},
		{"unconfigured", report.Path{ErrorKind: report.ErrorUnconfigured, Expected: report.ExpectOK}, outcome{"skip", "–", "skipped"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := outcomeOf(tt.path); got != tt.want {
				t.Errorf("outcomeOf(%+v): got %+v, want %+v", tt.path, got, tt.want)
			}
		})
	}
}

func TestNewSummaryHeadline(t *testing.T) {
	t.Parallel()
	tests := []struct {
		counts    report.Summary
		wantClass string
		want      string
	}{
		{report.Summary{}, "none", "No paths reported yet"},
		{report.Summary{Total: 9, OK: 9}, "pass", "All 9 paths ok"},
		{report.Summary{Total: 9, OK: 7, Skipped: 2}, "pass", "All 7 tried paths ok"},
		{report.Summary{Total: 9, OK: 7, Failed: 1, Skipped: 1}, "fail", "1 of 9 paths failing"},
		{report.Summary{Total: 1, Skipped: 1}, "skip", "All 1 path skipped"},
	}
	for _, tt := range tests {
		got := newSummary(report.Report{Summary: tt.counts})
		if got.Headline != tt.want || got.Outcome.Class != tt.wantClass {
			t.Errorf("newSummary(%+v): got %q (%s), want %q (%s)", tt.counts, got.Headline, got.Outcome.Class, tt.want, tt.wantClass)
		}
	}
}

func TestFormatLatency(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ms   float64
		want string
	}{
		{0, "—"},
		{0.314, "0.31 ms"},
		{1.74, "1.7 ms"},
		{250.4, "250 ms"},
		{2000, "2.00 s"},
	}
	for _, tt := range tests {
		if got := formatLatency(tt.ms); got != tt.want {
			t.Errorf("formatLatency(%v): got %q, want %q", tt.ms, got, tt.want)
		}
	}
}

func TestPlacement(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		path report.Path
		want string
	}{
		{"both nodes given", report.Path{FromNode: "w1", ToNode: "w1"}, "same node"},
		{"other node", report.Path{FromNode: "w1", ToNode: "w2"}, "cross-node"},
		{"node of the answering pod", report.Path{FromNode: "w1", AnsweredBy: &report.Pod{Node: "w2"}}, "cross-node"},
		{"caller's node unknown", report.Path{ToNode: "w2"}, ""},
	}
	for _, tt := range tests {
		if got := placement(tt.path); got != tt.want {
			t.Errorf("placement, %s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestBreakable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"backend.podpaths.svc", []string{"backend.", "podpaths.", "svc"}},
		{"BACKEND_SERVICE_HOST", []string{"BACKEND_", "SERVICE_", "HOST"}},
		{"/my-be/", []string{"/", "my-be/"}},
	}
	for _, tt := range tests {
		if got := breakable(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("breakable(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSpreadVerdict(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   report.Spread
		want string
	}{
		{"nothing measured", report.Spread{}, "No calls made."},
		{"all failed", report.Spread{N: 3, Errors: map[string]int{"refused": 3}}, "No pod answered. 3 calls failed."},
		{"one pod", report.Spread{N: 1, Pods: []report.PodCount{{Pod: "backend-0", Count: 1}}}, "backend-0 answered all 1 call."},
		{"pods listed without calls do not count", report.Spread{N: 4, Pods: []report.PodCount{{Pod: "backend-0"}, {Pod: "backend-1", Count: 4}}}, "backend-1 answered all 4 calls."},
		{"the ClusterIP was not found", report.Spread{N: 5, Error: "find backend: no such host"}, "No pod answered. 5 calls failed."},
	}
	for _, tt := range tests {
		if got := newSpread(tt.in).Verdict; got != tt.want {
			t.Errorf("verdict, %s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestNewSpreadNeverOverflows checks that counts adding up to more than Calls
// still give bars no wider than their track.
func TestNewSpreadNeverOverflows(t *testing.T) {
	t.Parallel()
	s := newSpread(report.Spread{N: 2, Pods: []report.PodCount{{Pod: "backend-0", Count: 3}, {Pod: "backend-1", Count: 1}}})
	if s.Calls != 4 || s.Bars[0].Width != "75.0" || s.Bars[1].Width != "25.0" {
		t.Errorf("newSpread with counts over Calls: got calls %d and widths %q, %q, want 4, 75.0, 25.0", s.Calls, s.Bars[0].Width, s.Bars[1].Width)
	}
}
