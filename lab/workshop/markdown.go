package workshop

import (
	"fmt"
	"strings"
)

// Markdown renders the workshop page: intro, then every exercise as a
// participant reads it (goal, predictions, what the runner does and the
// commands that do the same by hand, what to observe, the explanation, the
// reset), then outro.
func Markdown(intro, outro string, exercises []Exercise) string {
	var b strings.Builder
	b.WriteString(strings.TrimSpace(intro) + "\n")
	for i, ex := range exercises {
		writeExercise(&b, i+1, ex)
	}
	b.WriteString("\n" + strings.TrimSpace(outro) + "\n")
	return b.String()
}

func writeExercise(b *strings.Builder, n int, ex Exercise) {
	fmt.Fprintf(b, "\n## %d. %s\n\n**Goal:** %s\n\n**Predict:**\n", n, ex.Title, ex.Goal)
	for _, q := range ex.Predict {
		b.WriteString("- " + q + "\n")
	}
	fmt.Fprintf(b, "\n**Do:** `make exercise N=%d` (or `make exercise N=%s`) runs the steps below, waits until the lab shows\n"+
		"each one, and prints what changed. By hand, the steps are:\n", n, ex.Slug)
	for i, step := range ex.Steps {
		fmt.Fprintf(b, "\n%d. %s:\n\n   ```sh\n", i+1, step.Name)
		for _, a := range step.Do {
			for _, line := range strings.Split(a.Command(), "\n") {
				b.WriteString("   " + line + "\n")
			}
		}
		b.WriteString("   ```\n")
	}
	b.WriteString("\n**Observe:**\n")
	for i, step := range ex.Steps {
		if len(ex.Steps) > 1 {
			fmt.Fprintf(b, "- After step %d (%s):\n", i+1, step.Name)
		}
		for _, e := range step.Expect {
			prefix := "- "
			if len(ex.Steps) > 1 {
				prefix = "  - "
			}
			b.WriteString(prefix + e.Text() + "\n")
		}
	}
	b.WriteString("\n`make exercise-check` checks these again; it exits 1 when one is missing.\n")
	b.WriteString("\n**Explain:** " + strings.TrimSpace(ex.Explain) + "\n")
	for _, note := range ex.Notes {
		b.WriteString("\n" + strings.TrimSpace(note) + "\n")
	}
	if ex.Only != "" {
		fmt.Fprintf(b, "\nThis exercise runs on the %s lab only: it needs what only that lab can do.\n", ex.Only)
	}
	b.WriteString("\n**Reset:** `make exercise-reset` ")
	if len(ex.Undo) > 0 {
		b.WriteString("first ends what the exercise started outside the lab's namespace:\n\n```sh\n")
		for _, a := range ex.Undo {
			b.WriteString(a.Command() + "\n")
		}
		b.WriteString("```\n\nThen it ")
	}
	b.WriteString("applies the base again, deletes what the exercise added, and waits\nuntil `make check` passes.\n")
}
