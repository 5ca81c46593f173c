package exercises

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWorkshopDocIsGenerated: docs/workshop.md is what the exercises
// generate, so it claims no observation that no exercise checks, and the
// other way round. `go run ./lab exercise docs > docs/workshop.md` renews it.
func TestWorkshopDocIsGenerated(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "workshop.md"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(raw), Markdown(); got != want {
		t.Errorf("docs/workshop.md differs from the exercises' text; run: go run ./lab exercise docs > docs/workshop.md\n%s", firstDiff(got, want))
	}
}

// firstDiff shows the first line where two texts differ.
func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\n", i+1) + "  file:      " + al[i] + "\n  generated: " + bl[i]
		}
	}
	return "one is a prefix of the other"
}

// TestExercisesAreWhole: every exercise has what the runner and the docs
// need, and slugs are unique.
func TestExercisesAreWhole(t *testing.T) {
	t.Parallel()
	slugs := map[string]bool{}
	all := All()
	if len(all) < 9 {
		t.Errorf("%d exercises, want at least the workshop's nine", len(all))
	}
	for _, ex := range all {
		if slugs[ex.Slug] {
			t.Errorf("slug %q used twice", ex.Slug)
		}
		slugs[ex.Slug] = true
		if ex.Title == "" || ex.Goal == "" || len(ex.Predict) == 0 || ex.Explain == "" || len(ex.Steps) == 0 {
			t.Errorf("exercise %q lacks a title, goal, prediction, explanation or step", ex.Slug)
		}
		for _, s := range ex.Steps {
			if s.Name == "" || len(s.Do) == 0 || len(s.Expect) == 0 {
				t.Errorf("exercise %q: step %q has no action or no expectation", ex.Slug, s.Name)
			}
			for _, e := range s.Expect {
				if strings.TrimSpace(e.Text()) == "" {
					t.Errorf("exercise %q: step %q has an expectation without text", ex.Slug, s.Name)
				}
			}
		}
	}
}
