package dashboard

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/podpaths/podpaths/platform/report"
)

func TestRenderMarksEachEdge(t *testing.T) {
	t.Parallel()
	doc := render(t, samplePage())

	tests := []struct {
		edge      string
		wantClass string
		wantLabel string // a part of the label, symbol first
	}{
		{edge: "entry", wantClass: "edge-entry", wantLabel: "NodePort 30080"},
		{edge: "nginx-frontend-localhost", wantClass: "edge-pass", wantLabel: "✓ localhost"},
		{edge: "frontend-backend-env", wantClass: "edge-skip", wantLabel: "– env · unconfigured"},
		{edge: "frontend-backend-dns", wantClass: "edge-pass", wantLabel: "✓ dns → backend-1"},
		{edge: "frontend-backend-sticky-dns", wantClass: "edge-pass", wantLabel: "✓ dns · sticky → backend-0"},
		{edge: "frontend-backend-local-dns", wantClass: "edge-pass", wantLabel: "✓ dns · local · timeout (must fail)"},
		{edge: "frontend-backend-headless-backend-0", wantClass: "edge-pass", wantLabel: "✓ headless"},
		{edge: "frontend-backend-headless-backend-2", wantClass: "edge-fail", wantLabel: "✗ headless · timeout"},
		{edge: "nginx-backend-dns", wantClass: "edge-fail", wantLabel: "✗ nginx /my-be/ dns · http"},
		{edge: "backend-sidecar-localhost@backend-0", wantClass: "edge-pass", wantLabel: "✓ localhost"},
		{edge: "backend-sidecar-localhost@backend-1", wantClass: "edge-pass", wantLabel: "✓ localhost"},
		{edge: "backend-sidecar-localhost@backend-2", wantClass: "edge-none", wantLabel: "· localhost"},
		{edge: "backend-backend-0-backend-backend-1-headless", wantClass: "peer-pass", wantLabel: "✓ backend-1"},
		{edge: "backend-backend-0-backend-backend-2-headless", wantClass: "peer-fail", wantLabel: "✗ backend-2"},
	}
	for _, tt := range tests {
		t.Run(tt.edge, func(t *testing.T) {
			t.Parallel()
			edges := findAll(doc, withAttr("data-edge", tt.edge))
			if len(edges) != 1 {
				t.Fatalf("elements with data-edge=%q: got %d, want 1", tt.edge, len(edges))
			}
			if !hasClass(edges[0], tt.wantClass) {
				t.Errorf("edge %q: got class %q, want %q in it", tt.edge, attr(edges[0], "class"), tt.wantClass)
			}
			if got := text(edges[0]); !strings.Contains(got, tt.wantLabel) {
				t.Errorf("edge %q: got text %q, want %q in it", tt.edge, got, tt.wantLabel)
			}
		})
	}
}

func TestRenderMarksEachRow(t *testing.T) {
	t.Parallel()
	doc := render(t, samplePage())

	tests := []struct {
		path      string
		wantClass string
		wantText  string // the result badge
		wantDrawn bool
	}{
		{path: "nginx-frontend-localhost", wantClass: "row-pass", wantText: "✓ ok", wantDrawn: true},
		{path: "frontend-backend-env", wantClass: "row-skip", wantText: "– skipped", wantDrawn: true},
		{path: "frontend-backend-local-dns", wantClass: "row-pass", wantText: "✓ blocked, as expected", wantDrawn: true},
		{path: "frontend-backend-headless-backend-2", wantClass: "row-fail", wantText: "✗ failed", wantDrawn: true},
		{path: "backend-backend-0-backend-backend-2-headless", wantClass: "row-fail", wantText: "✗ failed", wantDrawn: true},
		{path: "nginx-backend-dns", wantClass: "row-fail", wantText: "✗ failed", wantDrawn: true},
		{path: "frontend-backend-static", wantClass: "row-fail", wantText: "✗ failed", wantDrawn: true},
		{path: "frontend-backend-elsewhere", wantClass: "row-pass", wantText: "✓ ok", wantDrawn: false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			rows := findAll(doc, withAttr("data-path", tt.path))
			if len(rows) != 1 {
				t.Fatalf("rows with data-path=%q: got %d, want 1", tt.path, len(rows))
			}
			row := rows[0]
			if !hasClass(row, tt.wantClass) {
				t.Errorf("row %q: got class %q, want %q in it", tt.path, attr(row, "class"), tt.wantClass)
			}
			badges := findAll(row, withClass("badge"))
			if len(badges) != 1 || text(badges[0]) != tt.wantText {
				t.Errorf("row %q: got badges %q, want one %q", tt.path, texts(badges), tt.wantText)
			}
			undrawn := strings.Contains(text(row), "not in the picture")
			if undrawn == tt.wantDrawn {
				t.Errorf("row %q: got 'not in the picture' %t, want %t", tt.path, undrawn, !tt.wantDrawn)
			}
		})
	}
}

// TestRenderUnknownPathOnlyInTable checks that a path id the picture does not
// know gets a row and no edge.
func TestRenderUnknownPathOnlyInTable(t *testing.T) {
	t.Parallel()
	doc := render(t, samplePage())
	if got := findAll(doc, withAttr("data-edge", "frontend-backend-elsewhere")); len(got) != 0 {
		t.Errorf("edges for the unknown path frontend-backend-elsewhere: got %d, want 0", len(got))
	}
}

func TestRenderListsHopsUnderTheirPath(t *testing.T) {
	t.Parallel()
	doc := render(t, samplePage())
	rows := findAll(doc, withAttr("data-path", ""))
	var order []string
	for _, r := range rows {
		id := attr(r, "data-path")
		if hasClass(r, "hop") {
			id = "hop:" + id
		}
		order = append(order, id)
	}
	want := []string{"frontend-backend-dns", "hop:backend-sidecar-localhost", "frontend-backend-sticky-dns"}
	if !containsRun(order, want) {
		t.Errorf("row order: got %q, want the run %q in it", order, want)
	}
}

func TestRenderEscapes(t *testing.T) {
	t.Parallel()
	const evil = `<script>alert("podpaths")</script>`
	page := samplePage()
	page.Title = evil
	page.Self.Pod = evil
	page.Entry.Host = evil
	page.Entry.ClientIPs = []Hop{{Hop: evil, IP: evil}}
	page.Report.Paths[2].Error = evil
	page.Report.Paths[2].Query = evil
	page.Report.Paths[2].AnsweredBy = &report.Pod{Pod: evil}
	page.Spreads[0].Pods[0].Pod = evil
	page.Links = []report.Link{{Name: evil, Value: evil}}

	out := renderString(t, page)
	if strings.Contains(out, "<script>alert") {
		t.Errorf("rendered page contains the unescaped %q", evil)
	}
	if !strings.Contains(out, "&lt;script&gt;alert(") {
		t.Errorf("rendered page lacks the escaped %q", evil)
	}
	doc := parse(t, out)
	for _, s := range findAll(doc, withTag("script")) {
		if attr(s, "src") != "/static/dashboard.js" || text(s) != "" {
			t.Errorf("script element: got src %q and body %q, want only the dashboard's script", attr(s, "src"), text(s))
		}
	}
}

func TestRenderEmptyPage(t *testing.T) {
	t.Parallel()
	doc := render(t, Page{})

	for _, want := range []string{"No paths reported yet", "enableServiceLinks: false", "No spread measured", "no pod has answered"} {
		if !strings.Contains(text(doc), want) {
			t.Errorf("empty page: want %q in its text", want)
		}
	}
	if got := text(first(t, doc, withTag("h1"))); got != "podpaths" {
		t.Errorf("empty page title: got %q, want the default %q", got, "podpaths")
	}
	if got := findAll(doc, withAttr("data-edge", "entry")); len(got) != 1 {
		t.Errorf("entry edges: got %d, want 1", len(got))
	}
}

func TestRenderWithoutNginx(t *testing.T) {
	t.Parallel()
	page := Page{
		Entry: Entry{Via: "direct", ClientIPs: []Hop{{Hop: "frontend", IP: "127.0.0.1"}}},
		Report: report.New("frontend", samplePage().Report.GeneratedAt, []report.Path{
			{ID: "frontend-backend-dns", From: "frontend", To: "backend", Method: report.MethodDNS, OK: true},
		}),
	}
	doc := render(t, page)
	for _, n := range findAll(doc, withClass("node-label")) {
		if text(n) == "nginx" {
			t.Errorf("page without any nginx path or hop draws an nginx node")
		}
	}
	if got := findAll(doc, withAttr("data-edge", "nginx-frontend-localhost")); len(got) != 0 {
		t.Errorf("nginx-frontend-localhost edges: got %d, want 0", len(got))
	}
}

// Fifty backend pods: one box per node, each linking to its pods' rows in
// the details, every headless row drawn, and a failure on one node's pod
// colours only that node's arrow.
func TestRenderGroupsManyPodsByNode(t *testing.T) {
	t.Parallel()
	var paths []report.Path
	for i := range 50 {
		pod, node := fmt.Sprintf("backend-%d", i), "node-a"
		if i%2 == 1 {
			node = "node-b"
		}
		p := report.Path{ID: report.HeadlessID(pod), From: "frontend", To: "backend", Method: report.MethodHeadless, OK: true,
			AnsweredBy: &report.Pod{Pod: pod, Node: node}}
		if i == 7 {
			p.OK, p.ErrorKind = false, report.ErrorTimeout
		}
		paths = append(paths, p)
	}
	doc := render(t, Page{Report: report.New("frontend", samplePage().Report.GeneratedAt, paths)})

	groups := findAll(doc, withClass("pod-group"))
	if len(groups) != 2 {
		t.Fatalf("group boxes: got %d, want one per node (2)", len(groups))
	}
	for _, want := range []struct{ node, anchor, edgeClass string }{
		{"node-a", "pods-on-node-a", "edge-pass"},
		{"node-b", "pods-on-node-b", "edge-fail"},
	} {
		link := first(t, doc, withAttr("href", "#"+want.anchor))
		if !strings.Contains(text(link), "25 backend pods") || !strings.Contains(text(link), want.node) {
			t.Errorf("group box of %s: got %q, want 25 backend pods on %s", want.node, text(link), want.node)
		}
		rows := first(t, doc, withAttr("id", want.anchor))
		if n := strings.Count(text(rows), "backend-"); n != 25 {
			t.Errorf("details of %s list %d pods, want 25", want.node, n)
		}
		edge := first(t, doc, withAttr("data-edge", report.IDHeadless+"@node:"+want.node))
		if !strings.Contains(attr(edge, "class"), want.edgeClass) || !strings.Contains(text(edge), "headless × 25") {
			t.Errorf("headless arrow to %s: class %q, text %q; want %s, \"headless × 25\"", want.node, attr(edge, "class"), text(edge), want.edgeClass)
		}
	}
	for _, row := range findAll(doc, withClass("row")) {
		if strings.Contains(text(row), "not in the picture") {
			t.Errorf("row %s is not in the picture; every pod is, in its node's box", attr(row, "data-path"))
		}
	}
}

func TestRenderSpreads(t *testing.T) {
	t.Parallel()
	doc := render(t, samplePage())
	spreads := findAll(doc, withClass("spread"))
	if len(spreads) != 2 {
		t.Fatalf("spreads: got %d, want 2", len(spreads))
	}
	tests := []struct {
		spread      int
		wantWidths  []string
		wantVerdict string
	}{
		{spread: 0, wantWidths: []string{"width: 36.7%", "width: 30.0%", "width: 26.7%", "width: 6.7%"}, wantVerdict: "3 pods shared 28 calls. 2 calls failed."},
		{spread: 1, wantWidths: []string{"width: 100.0%"}, wantVerdict: "backend-1 answered all 30 calls."},
	}
	for _, tt := range tests {
		s := spreads[tt.spread]
		var widths []string
		for _, f := range findAll(s, withClass("bar-fill")) {
			widths = append(widths, attr(f, "style"))
		}
		if strings.Join(widths, ";") != strings.Join(tt.wantWidths, ";") {
			t.Errorf("spread %d bar widths: got %q, want %q", tt.spread, widths, tt.wantWidths)
		}
		if got := text(first(t, s, withClass("verdict"))); got != tt.wantVerdict {
			t.Errorf("spread %d verdict: got %q, want %q", tt.spread, got, tt.wantVerdict)
		}
	}
	if got := findAll(spreads[0], withClass("bar-error")); len(got) != 1 || !strings.Contains(text(got[0]), "refused") {
		t.Errorf("error bars of spread 0: got %q, want one for refused", texts(got))
	}
}

func TestRenderLinksSorted(t *testing.T) {
	t.Parallel()
	doc := render(t, samplePage())
	table := first(t, doc, withClass("links"))
	var names []string
	for _, th := range findAll(table, withAttr("scope", "row")) {
		names = append(names, text(th))
	}
	want := []string{"KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT", "KUBERNETES_SERVICE_PORT_HTTPS"}
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Errorf("link names: got %q, want %q", names, want)
	}
}

func TestRenderReportsWriteErrors(t *testing.T) {
	t.Parallel()
	r := newRenderer(t)
	if err := r.Render(failingWriter{}, samplePage()); !errors.Is(err, errWrite) {
		t.Errorf("Render to a failing writer: got %v, want %v", err, errWrite)
	}
}

func BenchmarkRender(b *testing.B) {
	r, err := New()
	if err != nil {
		b.Fatal(err)
	}
	page := samplePage()
	b.ReportAllocs()
	for b.Loop() {
		if err := r.Render(io.Discard, page); err != nil {
			b.Fatal(err)
		}
	}
}

var errWrite = errors.New("write failed")

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errWrite }
