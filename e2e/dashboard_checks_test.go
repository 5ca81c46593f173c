//go:build e2e

package e2e

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp/kb"

	"github.com/podpaths/podpaths/e2e/internal/browser"
	"github.com/podpaths/podpaths/platform/report"
)

// What TestDashboard checks on a page the browser opened.

// openDashboard opens url in a new tab of width CSS pixels, reads it and
// saves a screenshot named after state and width.
func openDashboard(t *testing.T, b *browser.Browser, url string, width int64, state string) (*browser.Page, browser.Audit) {
	t.Helper()
	p, err := b.NewPage(width, 900)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	if err := p.Open(url); err != nil {
		t.Fatal(err)
	}
	a, err := p.Audit()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Screenshot(filepath.Join(screenshots, fmt.Sprintf("%s-%dpx.png", state, width))); err != nil {
		t.Error(err)
	}
	return p, a
}

func checkDrawing(t *testing.T, a browser.Audit) {
	t.Helper()
	if len(a.Drawing.Texts) == 0 || len(a.Drawing.Lines) == 0 {
		t.Fatalf("the picture has %d texts and %d lines; want both", len(a.Drawing.Texts), len(a.Drawing.Lines))
	}
	for _, problem := range a.Drawing.Problems() {
		t.Error(problem)
	}
	if a.FigureScrolls && !a.FigureScrollable {
		t.Error("the picture is wider than its frame, and the frame does not scroll: its right side is cut off")
	}
}

// topLevelIDs are the ids of the report's own paths, the caller of each
// sibling check left out: every report has the same paths, but whose
// siblings it lists, and the hops under them, depend on which backend pod
// answered, so two reports differ there.
func topLevelIDs(rep report.Report) []string {
	var ids []string
	for _, p := range rep.Paths {
		ids = append(ids, anyCaller(p.ID))
	}
	slices.Sort(ids)
	return ids
}

// anyCaller replaces the calling pod of a sibling check by "*".
func anyCaller(id string) string {
	if from, ok := report.SiblingFrom(id); ok {
		return strings.Replace(id, "backend-"+from+"-", "backend-*-", 1)
	}
	return id
}

func checkRows(t *testing.T, a browser.Audit, want []string) {
	t.Helper()
	var got []string
	for _, row := range a.Rows {
		if !row.Hop {
			got = append(got, anyCaller(row.ID))
		}
		if c := a.Legend[row.Outcome]; row.Colour != c {
			t.Errorf("row %s is %s, coloured %s; the legend's colour for %s is %s", row.ID, row.Outcome, row.Colour, row.Outcome, c)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("the table's rows are %q; /api/paths has %q", got, want)
	}
}

// checkMarks: every arrow or sibling mark that stands for paths of the
// table has the worst result among them, in the legend's colour.
func checkMarks(t *testing.T, a browser.Audit) {
	t.Helper()
	worst := map[string]string{}
	for _, row := range a.Rows {
		if severity(row.Outcome) > severity(worst[row.ID]) {
			worst[row.ID] = row.Outcome
		}
	}
	matched := 0
	for _, m := range a.Marks {
		if c := a.Legend[m.Outcome]; m.Colour != "" && m.Colour != c {
			t.Errorf("%s is %s, coloured %s; the legend's colour for %s is %s", m.Key, m.Outcome, m.Colour, m.Outcome, c)
		}
		want, ok := worst[m.Key]
		if !ok {
			continue
		}
		matched++
		if m.Outcome != want {
			t.Errorf("%s is drawn %s; its rows say %s", m.Key, m.Outcome, want)
		}
	}
	if matched == 0 {
		t.Errorf("no arrow or mark stands for a row of the table: %+v", a.Marks)
	}
}

// severity orders results as the dashboard does: an arrow for several paths
// shows the worst.
func severity(outcome string) int {
	return slices.Index([]string{"", "none", "pass", "skip", "fail"}, outcome)
}

func checkTextAlternative(t *testing.T, a browser.Audit) {
	t.Helper()
	if a.PictureRole != "img" || len(a.PictureName) < 20 {
		t.Errorf("the topology picture has role %q and name %q; want role img and a name that describes it", a.PictureRole, a.PictureName)
	}
}

// checkTabReachesEveryControl presses Tab through the page, as a keyboard
// user does, and fails for every link or control it never reaches.
func checkTabReachesEveryControl(t *testing.T, p *browser.Page) {
	t.Helper()
	controls, err := browser.Eval[[]string](p, `[...document.querySelectorAll("a[href], input, button, [tabindex]")]
		.filter((el) => !el.closest("[hidden]") && el.getClientRects().length > 0).map((el) => el.outerHTML.slice(0, 120))`)
	if err != nil {
		t.Fatal(err)
	}
	reached := map[string]bool{}
	for range len(controls) + 1 {
		if err := p.Key(kb.Tab); err != nil {
			t.Fatal(err)
		}
		focused, err := browser.Eval[string](p, `document.activeElement.outerHTML.slice(0, 120)`)
		if err != nil {
			t.Fatal(err)
		}
		reached[focused] = true
	}
	for _, c := range controls {
		if !reached[c] {
			t.Errorf("Tab never reaches %s", c)
		}
	}
	if len(controls) < 3 {
		t.Errorf("the page has %d controls (%q); want at least the refresh link, the auto-refresh switch and the JSON links", len(controls), controls)
	}
}

// switchAutoRefreshOn tabs to the auto-refresh switch and presses space.
func switchAutoRefreshOn(t *testing.T, p *browser.Page) {
	t.Helper()
	for range 20 {
		if err := p.Key(kb.Tab); err != nil {
			t.Fatal(err)
		}
		id, err := browser.Eval[string](p, `document.activeElement.id`)
		if err != nil {
			t.Fatal(err)
		}
		if id != "auto-refresh" {
			continue
		}
		if err := p.Key(" "); err != nil {
			t.Fatal(err)
		}
		on, err := browser.Eval[bool](p, `document.getElementById("auto-refresh").checked && sessionStorage.getItem("podpaths.autoRefresh") === "on"`)
		if err != nil || !on {
			t.Fatalf("space on the auto-refresh switch: switched on %v (%v)", on, err)
		}
		// Gone after the page reloads itself.
		if _, err := browser.Eval[bool](p, `window.podpathsTestMark = true`); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatal("20 presses of Tab never reached the auto-refresh switch")
}
