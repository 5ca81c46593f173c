package dashboard

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/podpaths/podpaths/platform/report"
)

// view is what the templates render: the page with every value already
// worked out and formatted, so that the templates only lay things out.
type view struct {
	Title    string
	Self     report.Identity
	Summary  summary
	Topology topology
	Rows     []row
	Pods     []podsOnNode
	Spreads  []spread
	Entry    Entry
	Links    []report.Link
}

func newView(p Page) view {
	title := p.Title
	if title == "" {
		title = "podpaths"
	}
	flat := flatten(p.Report.Paths)
	topo, drawn, pods := buildTopology(p.Self, p.Entry, flat)
	return view{
		Title:    title,
		Self:     p.Self,
		Summary:  newSummary(p.Report),
		Topology: topo,
		Rows:     newRows(flat, drawn),
		Pods:     pods,
		Spreads:  newSpreads(p.Spreads),
		Entry:    p.Entry,
		Links:    sortedLinks(p.Links),
	}
}

// flatPath is one path of the report together with the path whose answer
// carried it: the backend reports its sidecar call inside its own answer, as
// a hop, and only that answer tells which backend pod made the call.
type flatPath struct {
	report.Path
	parent *report.Path
}

// flatten lists the paths of a report and, after each, its hops.
func flatten(paths []report.Path) []flatPath {
	var flat []flatPath
	var walk func(paths []report.Path, parent *report.Path)
	walk = func(paths []report.Path, parent *report.Path) {
		for i := range paths {
			flat = append(flat, flatPath{Path: paths[i], parent: parent})
			walk(paths[i].Hops, &paths[i])
		}
	}
	walk(paths, nil)
	return flat
}

// outcome is how a path, or an edge standing for paths, is marked: a CSS class
// for the colour, and a symbol and words so that colour is never the only cue.
type outcome struct {
	Class  string // pass, fail, skip or none
	Symbol string
	Text   string
}

// outcomeOf marks a path by report.Path.Outcome. Paths that must fail get
// their own words: a passing one was blocked, a failing one got through.
func outcomeOf(p report.Path) outcome {
	o := p.Outcome()
	switch {
	case o == report.OutcomeSkip:
		return outcome{Class: "skip", Symbol: "–", Text: "skipped"}
	case o == report.OutcomePass && p.Expected == report.ExpectFail:
		return outcome{Class: "pass", Symbol: "✓", Text: "blocked, as expected"}
	case o == report.OutcomePass:
		return outcome{Class: "pass", Symbol: "✓", Text: "ok"}
	case p.Expected == report.ExpectFail:
		return outcome{Class: "fail", Symbol: "✗", Text: "got through, must not"}
	default:
		return outcome{Class: "fail", Symbol: "✗", Text: "failed"}
	}
}

// notReported marks an edge of the picture that no path in the report covers:
// a backend pod's own checks (its sidecar, its siblings) travel back in its
// answers, so a pod that answered none of this report's calls was not asked.
// That is no fault, and the words must not read like one.
func notReported() outcome {
	return outcome{Class: "none", Symbol: "·", Text: "not asked in this report"}
}

// severity orders outcomes so that an edge standing for several paths shows
// the worst of them.
func (o outcome) severity() int {
	switch o.Class {
	case "fail":
		return 3
	case "pass":
		return 2
	case "skip":
		return 1
	default:
		return 0
	}
}

// summary is the verdict line at the top of the page.
type summary struct {
	Outcome  outcome
	Headline string
	Counts   report.Summary
	Reporter string
	At       string // when the report was made, for people
	AtISO    string // the same, for the <time> element
}

func newSummary(r report.Report) summary {
	s := summary{Counts: r.Summary, Reporter: r.Reporter}
	if !r.GeneratedAt.IsZero() {
		s.At = r.GeneratedAt.UTC().Format("2006-01-02 15:04:05 MST")
		s.AtISO = r.GeneratedAt.UTC().Format(time.RFC3339)
	}
	c := r.Summary
	switch {
	case c.Total == 0:
		s.Outcome, s.Headline = notReported(), "No paths reported yet"
	case c.Failed > 0:
		s.Outcome = outcome{Class: "fail", Symbol: "✗", Text: "failed"}
		s.Headline = fmt.Sprintf("%d of %d %s failing", c.Failed, c.Total, plural(c.Total, "path", "paths"))
	case c.OK == 0:
		s.Outcome = outcome{Class: "skip", Symbol: "–", Text: "skipped"}
		s.Headline = fmt.Sprintf("All %d %s skipped", c.Total, plural(c.Total, "path", "paths"))
	case c.Skipped > 0:
		s.Outcome = outcome{Class: "pass", Symbol: "✓", Text: "ok"}
		s.Headline = fmt.Sprintf("All %d tried %s ok", c.OK, plural(c.OK, "path", "paths"))
	default:
		s.Outcome = outcome{Class: "pass", Symbol: "✓", Text: "ok"}
		s.Headline = fmt.Sprintf("All %d %s ok", c.Total, plural(c.Total, "path", "paths"))
	}
	return s
}

// row is one line of the paths table.
type row struct {
	ID        string
	Hop       bool // carried back inside the previous path's answer
	Drawn     bool // false: the picture has no edge for this path
	Outcome   outcome
	From, To  string
	Method    string
	Query     []string // what was looked up, cut where a line may break
	Addresses []string
	Answered  *report.Pod
	ClientIP  string
	Placement string // "same node" or "cross-node", when both ends are known
	Latency   string
	Status    string
	ErrorKind string
	Error     string
	Expected  string
}

func newRows(flat []flatPath, drawn []bool) []row {
	rows := make([]row, len(flat))
	for i, f := range flat {
		p := f.Path
		rows[i] = row{
			ID:        p.ID,
			Hop:       f.parent != nil,
			Drawn:     drawn[i],
			Outcome:   outcomeOf(p),
			From:      p.From,
			To:        p.To,
			Method:    string(p.Method),
			Query:     breakable(p.Query),
			Addresses: p.Addresses,
			Answered:  p.AnsweredBy,
			ClientIP:  p.ClientIPSeen,
			Placement: placement(p),
			Latency:   formatLatency(p.LatencyMS),
			Status:    formatStatus(p.Status),
			ErrorKind: string(p.ErrorKind),
			Error:     p.Error,
			Expected:  formatExpected(p.Expected),
		}
	}
	return rows
}

// placement tells whether a call stayed on its node, which matters for
// internalTrafficPolicy: Local and for latency.
func placement(p report.Path) string {
	to := p.ToNode
	if to == "" && p.AnsweredBy != nil {
		to = p.AnsweredBy.Node
	}
	switch {
	case p.FromNode == "" || to == "":
		return ""
	case p.FromNode == to:
		return "same node"
	default:
		return "cross-node"
	}
}

// breakable cuts s after dots, slashes and underscores, where the table may
// wrap a long DNS name or variable name without splitting a word.
func breakable(s string) []string {
	var parts []string
	for len(s) > 0 {
		i := strings.IndexAny(s, "./_")
		if i < 0 {
			break
		}
		parts, s = append(parts, s[:i+1]), s[i+1:]
	}
	if s != "" {
		parts = append(parts, s)
	}
	return parts
}

func formatLatency(ms float64) string {
	switch {
	case ms <= 0:
		return "—"
	case ms < 1:
		return fmt.Sprintf("%.2f ms", ms)
	case ms < 100:
		return fmt.Sprintf("%.1f ms", ms)
	case ms < 1000:
		return fmt.Sprintf("%.0f ms", ms)
	default:
		return fmt.Sprintf("%.2f s", ms/1000)
	}
}

func formatStatus(status int) string {
	if status == 0 {
		return ""
	}
	return "HTTP " + strconv.Itoa(status)
}

func formatExpected(e report.Expectation) string {
	if e == report.ExpectFail {
		return "must fail"
	}
	return "must work"
}

// spread is one histogram of which pod answered.
type spread struct {
	Title     string
	KeepAlive bool
	Calls     int
	Bars      []bar
	Verdict   string
}

// bar is one pod, or one kind of error, of a spread.
type bar struct {
	Label string
	N     int
	Width string // share of all calls in percent, for the CSS width
	Share string // the same share, for people
	Error bool
}

func newSpreads(in []report.Spread) []spread {
	out := make([]spread, len(in))
	for i, s := range in {
		out[i] = newSpread(s)
	}
	return out
}

// count is one bar's label and number: a pod, or a kind of error.
type count struct {
	Label string
	N     int
}

func newSpread(s report.Spread) spread {
	title := fmt.Sprintf("keep-alive off: %d new connections", s.N)
	if s.KeepAlive {
		title = fmt.Sprintf("keep-alive on: %d calls over one connection", s.N)
	}
	var pods, errs []count
	for _, p := range s.Pods {
		pods = append(pods, count{Label: p.Pod, N: p.Count})
	}
	for _, kind := range slices.Sorted(maps.Keys(s.Errors)) {
		errs = append(errs, count{Label: kind, N: s.Errors[kind]})
	}
	if s.Error != "" {
		// No call was made: the whole run failed at the lookup.
		errs = append(errs, count{Label: string(report.ErrorDNS) + ": " + s.Error, N: s.N})
	}
	answered, failed := 0, 0
	for _, c := range pods {
		answered += c.N
	}
	for _, c := range errs {
		failed += c.N
	}
	// Bars are shares of all calls; if the counts add up to more than N
	// claims, trust the counts so that no bar is wider than its box.
	total := max(s.N, answered+failed)
	bars := make([]bar, 0, len(pods)+len(errs))
	for _, c := range pods {
		bars = append(bars, newBar(c, total, false))
	}
	for _, c := range errs {
		bars = append(bars, newBar(c, total, true))
	}
	return spread{Title: title, KeepAlive: s.KeepAlive, Calls: total, Bars: bars, Verdict: spreadVerdict(pods, answered, failed)}
}

func newBar(c count, total int, isError bool) bar {
	share := 0.0
	if total > 0 {
		share = 100 * float64(c.N) / float64(total)
	}
	return bar{
		Label: c.Label,
		N:     c.N,
		Width: strconv.FormatFloat(share, 'f', 1, 64),
		Share: strconv.FormatFloat(share, 'f', 0, 64) + "%",
		Error: isError,
	}
}

// spreadVerdict says in words what the bars show.
func spreadVerdict(counts []count, answered, failed int) string {
	var pods []string
	for _, c := range counts {
		if c.N > 0 {
			pods = append(pods, c.Label)
		}
	}
	var verdict string
	switch {
	case answered+failed == 0:
		return "No calls made."
	case len(pods) == 0:
		verdict = "No pod answered."
	case len(pods) == 1:
		verdict = fmt.Sprintf("%s answered all %d %s.", pods[0], answered, plural(answered, "call", "calls"))
	default:
		verdict = fmt.Sprintf("%d pods shared %d calls.", len(pods), answered)
	}
	if failed > 0 {
		verdict += fmt.Sprintf(" %d %s failed.", failed, plural(failed, "call", "calls"))
	}
	return verdict
}

func sortedLinks(links []report.Link) []report.Link {
	sorted := slices.Clone(links)
	slices.SortFunc(sorted, func(a, b report.Link) int { return cmp.Compare(a.Name, b.Name) })
	return sorted
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
