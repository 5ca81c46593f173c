package dashboard

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// Helpers that render a page and find things in its HTML.

func newRenderer(t *testing.T) *Renderer {
	t.Helper()
	r, err := New()
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r
}

func renderString(t *testing.T, p Page) string {
	t.Helper()
	var b strings.Builder
	if err := newRenderer(t).Render(&b, p); err != nil {
		t.Fatalf("Render: %v", err)
	}
	return b.String()
}

func render(t *testing.T, p Page) *html.Node {
	t.Helper()
	return parse(t, renderString(t, p))
}

func parse(t *testing.T, s string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(s))
	if err != nil {
		t.Fatalf("parse rendered page: %v", err)
	}
	return doc
}

// findAll returns the elements under n, n included, that match, in document
// order.
func findAll(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var found []*html.Node
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && match(d) {
			found = append(found, d)
		}
	}
	if n.Type == html.ElementNode && match(n) {
		found = append([]*html.Node{n}, found...)
	}
	return found
}

func first(t *testing.T, n *html.Node, match func(*html.Node) bool) *html.Node {
	t.Helper()
	found := findAll(n, match)
	if len(found) == 0 {
		t.Fatal("no element matches")
	}
	return found[0]
}

// withAttr matches elements that have the attribute with the value, or with
// any value if value is empty.
func withAttr(name, value string) func(*html.Node) bool {
	return func(n *html.Node) bool {
		for _, a := range n.Attr {
			if a.Key == name && (value == "" || a.Val == value) {
				return true
			}
		}
		return false
	}
}

func withClass(class string) func(*html.Node) bool {
	return func(n *html.Node) bool { return hasClass(n, class) }
}

func withTag(tag string) func(*html.Node) bool {
	return func(n *html.Node) bool { return n.Data == tag }
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

func hasClass(n *html.Node, class string) bool {
	return strings.Contains(" "+attr(n, "class")+" ", " "+class+" ")
}

// text is the text under n with runs of white space collapsed, leaving out
// tooltips (<title> inside SVG).
func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		switch {
		case n.Type == html.TextNode:
			b.WriteString(n.Data)
		case n.Type == html.ElementNode && n.Data == "title" && n.Parent != nil && n.Parent.Data != "head":
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

func texts(nodes []*html.Node) []string {
	var out []string
	for _, n := range nodes {
		out = append(out, text(n))
	}
	return out
}

// containsRun reports whether want appears in got as consecutive elements.
func containsRun(got, want []string) bool {
	for i := 0; i+len(want) <= len(got); i++ {
		if strings.Join(got[i:i+len(want)], "\x00") == strings.Join(want, "\x00") {
			return true
		}
	}
	return false
}
