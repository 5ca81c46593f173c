package workshop

import (
	"testing"
	"time"
)

// TestStreakCountsOnlyAnUnbrokenRun: a step with Hold converges only when
// its observations held for that long without a break.
func TestStreakCountsOnlyAnUnbrokenRun(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 7, 21, 0, 0, 0, time.UTC)
	var s streak
	steps := []struct {
		ok   bool
		at   time.Duration
		want time.Duration
	}{
		{ok: true, at: 0, want: 0},
		{ok: true, at: 3 * time.Second, want: 3 * time.Second},
		{ok: false, at: 4 * time.Second, want: 0},
		{ok: true, at: 5 * time.Second, want: 0},
		{ok: true, at: 13 * time.Second, want: 8 * time.Second},
	}
	for i, st := range steps {
		if got := s.record(st.ok, t0.Add(st.at)); got != st.want {
			t.Errorf("observation %d (ok=%v at %s): held %s, want %s", i, st.ok, st.at, got, st.want)
		}
	}
	if want := t0.Add(5 * time.Second); !s.since.Equal(want) {
		t.Errorf("the run began at %s, want %s (after the break)", s.since, want)
	}
}
