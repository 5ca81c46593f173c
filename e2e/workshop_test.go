//go:build e2e

package e2e

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podpaths/podpaths/e2e/internal/cluster"
	"github.com/podpaths/podpaths/lab/exercises"
	"github.com/podpaths/podpaths/lab/facts"
	"github.com/podpaths/podpaths/lab/localnodes"
	"github.com/podpaths/podpaths/lab/workshop"
)

// TestWorkshop runs every exercise of the workshop (lab/exercises) in
// order, through the runner that `make exercise` uses: start it (apply each
// step, wait until the lab shows it, check every observation), check it
// again as `make exercise-check` does, and reset it, which proves every path
// green again. docs/workshop.md is generated from the same definitions.
func TestWorkshop(t *testing.T) {
	r := begin(t, 40*time.Minute)
	runner := &workshop.Runner{Env: r.workshopEnv(t), Exercises: exercises.All()}
	var out strings.Builder
	runner.Env.Out = &out
	// A run that was interrupted may have left an exercise active.
	if err := runner.Reset(r.ctx); err != nil {
		t.Fatalf("reset before the workshop: %v\n%s", err, out.String())
	}
	start := time.Now()
	ran := 0 // -skip may leave exercises out, as CI's kind stage does
	for i, ex := range runner.Exercises {
		t.Run(fmt.Sprintf("%d-%s", i+1, ex.Slug), func(t *testing.T) {
			out.Reset()
			began := time.Now()
			defer func() {
				if t.Failed() {
					t.Logf("the runner's output:\n%s", out.String())
				}
			}()
			if ex.Only != "" && ex.Only != r.env.Kind {
				t.Skipf("exercise %d runs on the %s lab only", i+1, ex.Only)
			}
			ran++
			// A failed exercise is reset too, so that the next one starts
			// from the base and fails only for its own reasons.
			var failed error
			if err := runner.Start(r.ctx, ex.Slug); err != nil {
				failed = fmt.Errorf("make exercise N=%d: %w", i+1, err)
			} else if err := runner.Check(r.ctx); err != nil {
				failed = fmt.Errorf("make exercise-check after exercise %d: %w", i+1, err)
			}
			if failed != nil {
				t.Error(failed)
				// Also among the notes at the end of the run, where the tail
				// of a CI log shows it.
				t.Logf("summary: workshop: exercise %d (%s) failed: %s", i+1, ex.Slug, firstLine(failed.Error()))
			}
			if err := runner.Reset(r.ctx); err != nil {
				t.Fatalf("make exercise-reset after exercise %d: %v", i+1, err)
			}
			t.Logf("exercise %d (%s): %d steps, run, checked and reset in %s; steps took %s", i+1, ex.Slug, len(ex.Steps),
				time.Since(began).Round(time.Second), roundAll(runner.Took[ex.Slug]))
			if strings.HasPrefix(ex.Slug, "drill-") {
				took := runner.Took[ex.Slug]
				t.Logf("summary: %s: steps took %s; every path green %s after the recovery step began",
					ex.Slug, roundAll(took), took[len(took)-1].Round(100*time.Millisecond))
			}
		})
	}
	t.Logf("summary: workshop: %d of %d exercises run, checked and reset in %s; %d observations checked, %d not checked on this cluster",
		ran, len(runner.Exercises), time.Since(start).Round(time.Second), runner.Checked, runner.NotHere)
}

func roundAll(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(time.Second)
	}
	return out
}

// workshopEnv is the runner's view of the lab under test.
func (r *run) workshopEnv(t *testing.T) *workshop.Env {
	t.Helper()
	overlay := "deploy/overlays/local"
	if r.env.Kind == "kind" {
		overlay = "deploy/overlays/kind"
	}
	root, err := filepath.Abs(filepath.Join(r.env.Opts.DeployDir, ".."))
	if err != nil {
		t.Fatal(err)
	}
	entries := []string{"http://" + r.env.Localhost.Address}
	for _, n := range r.env.SchedulableNodes() {
		entries = append(entries, "http://"+cluster.NodePortAddr(n.IP, cluster.LabNodePort))
	}
	env := &workshop.Env{
		Clients: r.env.Clients(), Namespace: r.env.Opts.Namespace, Root: root, Overlay: overlay, Provider: r.env.Kind,
		EnforcesPolicy: r.env.Kind == "kind", Matrix: r.matrixConfig(), Entries: entries,
		Timeout: 3 * time.Minute, Poll: time.Second,
	}
	if r.env.Kind == "local" {
		f, err := facts.Read(r.env.Opts.FactsFile)
		if err != nil {
			t.Fatal(err)
		}
		log := slog.New(slog.NewTextHandler(t.Output(), nil))
		env.Faults = localnodes.Faults(root, f.Name, log)
		env.Outside = localnodes.Outside(root, f.Name, log)
	}
	return env
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
