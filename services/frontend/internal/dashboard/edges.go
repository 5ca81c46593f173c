package dashboard

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/podpaths/podpaths/platform/report"
)

// The arrows of the picture (one per path, or per group of paths that
// share both ends, coloured by the worst outcome among them) and the lists
// of sibling checks under the backend pods.

// entryEdge is how the browser came in. It is not a checked path: the page
// loaded, so it worked.
func entryEdge(entry Entry, browser, target node) edge {
	via := entry.Via
	if via == "" {
		via = "entry"
	}
	y := target.CY()
	return edge{
		Key:     "entry",
		Outcome: outcome{Class: "entry", Symbol: "→", Text: "how you came in"},
		D:       curve(browser.Right(), y, target.X-2, y),
		Label:   truncate(via, 18),
		At:      point{(browser.Right() + target.X) / 2, y + 20},
		Anchor:  "middle",
		Title:   "you came in through " + via,
	}
}

// localEdge is a call over the pod's loopback between two containers side by
// side.
func (b *builder) localEdge(key string, paths []int, from, to node) edge {
	y := from.CY()
	e := b.edge(key, "localhost", paths, false)
	e.D = curve(from.Right(), y, to.X-2, y)
	e.At = point{(from.Right() + to.X) / 2, y - 8}
	e.Anchor = "middle"
	return e
}

// frontendEdges draws the calls leaving the frontend (and nginx's call to the
// backend): to the Service by each ClusterIP method, and past it to each pod
// by its headless name.
func (b *builder) frontendEdges(routes []serviceRoute, svc, nginx, front node, pods []backendPod) []edge {
	type pending struct {
		edge
		to point
	}
	var edges []edge
	var fromFront []pending
	for i, r := range routes {
		to := point{svc.X - 2, slotY(svc, i)}
		e := b.edge(r.id, r.label, b.byID[r.id], true)
		e.At, e.Anchor = point{colX - labelGap, to.Y - 6}, "end"
		if r.fromNginx {
			e.D = riser(nginx.X+14, nginx.Y, to.X, to.Y)
			edges = append(edges, e)
			continue
		}
		fromFront = append(fromFront, pending{e, to})
	}
	for _, p := range pods {
		id := report.HeadlessID(p.name)
		if p.name == "" || len(b.byID[id]) == 0 {
			continue
		}
		to := point{p.backend.X - 2, p.backend.CY()}
		e := b.edge(id, "headless", b.byID[id], false)
		e.At, e.Anchor = point{colX - labelGap, to.Y - 6}, "end"
		fromFront = append(fromFront, pending{e, to})
	}
	// Spread the starts over the frontend's right side in the order of their
	// targets, top to bottom, so that no two edges cross.
	slices.SortStableFunc(fromFront, func(a, b pending) int { return cmp.Compare(a.to.Y, b.to.Y) })
	for i, p := range fromFront {
		startY := front.Y + 10 + (i+1)*(nodeH-20)/(len(fromFront)+1)
		p.D = curve(front.Right(), startY, p.to.X, p.to.Y)
		edges = append(edges, p.edge)
	}
	return edges
}

// sidecarEdge is the backend's call to its sidecar over the pod's loopback.
// The answer that carried the check tells which pod made it; when only one pod
// is drawn, that pod made every check.
func (b *builder) sidecarEdge(p backendPod, only bool) edge {
	var mine []int
	for _, i := range b.byID[report.IDSidecar] {
		if only || b.sidecarPod(b.flat[i]) == p.name {
			mine = append(mine, i)
		}
	}
	return b.localEdge(report.IDSidecar+"@"+p.name, mine, p.backend, p.sidecar)
}

// sidecarPod names the backend pod that checked its sidecar: the sidecar
// answers with its pod's name, and the backend's answer carries the check.
func (b *builder) sidecarPod(f flatPath) string {
	if f.AnsweredBy != nil && f.AnsweredBy.Pod != "" {
		return f.AnsweredBy.Pod
	}
	if f.parent != nil && f.parent.AnsweredBy != nil {
		return f.parent.AnsweredBy.Pod
	}
	return ""
}

// peers lists the sibling checks made from a backend pod.
func (b *builder) peers(p backendPod) (peerLine, bool) {
	if !p.hasPeers || p.name == "" {
		return peerLine{}, false
	}
	line := peerLine{point: point{p.box.X + podPadX, p.box.Bottom() - 12}, Outcome: notReported()}
	width, passed := 0, 0
	for _, to := range b.pods {
		id := report.SiblingID(p.name, to)
		if len(b.byID[id]) == 0 {
			continue
		}
		path, o := b.worst(b.byID[id])
		b.markDrawn(b.byID[id])
		line.Peers = append(line.Peers, peer{Key: id, Name: to, Outcome: o})
		width += len(to) + 3
		if o.severity() > line.Outcome.severity() {
			line.Outcome = o
		}
		if path.Outcome() == report.OutcomePass {
			passed++
		}
	}
	switch {
	case len(line.Peers) == 0:
		line.Summary = line.Outcome.Symbol + " " + line.Outcome.Text
	case width > peersFit:
		line.Summary = fmt.Sprintf("%s %d of %d ok", line.Outcome.Symbol, passed, len(line.Peers))
	}
	return line, true
}

// edge builds an edge for paths, marked by the worst of them and labelled with
// the method. withPod adds the pod that answered: through a Service, that is
// the news.
func (b *builder) edge(key, method string, paths []int, withPod bool) edge {
	if len(paths) == 0 {
		o := notReported()
		return edge{Key: key, Outcome: o, Label: o.Symbol + " " + method, Title: key + ": " + o.Text}
	}
	b.markDrawn(paths)
	p, o := b.worst(paths)
	return edge{Key: key, Outcome: o, Label: truncate(edgeLabel(o, method, p, withPod), 40), Title: tooltip(p, o)}
}

// markDrawn records that the picture shows these paths.
func (b *builder) markDrawn(paths []int) {
	for _, i := range paths {
		b.drawn[i] = true
	}
}

// worst picks the path that decides how an edge is marked.
func (b *builder) worst(paths []int) (report.Path, outcome) {
	i := slices.MaxFunc(paths, func(x, y int) int {
		return cmp.Compare(outcomeOf(b.flat[x].Path).severity(), outcomeOf(b.flat[y].Path).severity())
	})
	return b.flat[i].Path, outcomeOf(b.flat[i].Path)
}

// edgeLabel reads like "✓ dns → backend-1" or "✗ headless · timeout".
func edgeLabel(o outcome, method string, p report.Path, withPod bool) string {
	label := o.Symbol + " " + method
	switch {
	case withPod && p.OK && p.AnsweredBy != nil && p.AnsweredBy.Pod != "":
		label += " → " + p.AnsweredBy.Pod
	case p.ErrorKind != report.ErrorNone:
		label += " · " + string(p.ErrorKind)
	}
	if p.Expected == report.ExpectFail {
		label += " (must fail)"
	}
	return label
}

// tooltip gives the path id and, on failure, the whole error.
func tooltip(p report.Path, o outcome) string {
	t := p.ID + ": " + o.Text
	if p.Error != "" {
		t += ": " + p.Error
	}
	return t
}

// rails link the Service to its endpoints, the pods kube-proxy picks from.
func rails(svc node, pods []backendPod) ([]string, point) {
	if pods[0].name == "" {
		return nil, point{}
	}
	last := pods[len(pods)-1].box.CY()
	paths := []string{fmt.Sprintf("M%d %d H%d V%d", svc.Right(), svc.CY(), railX, last)}
	for _, p := range pods {
		paths = append(paths, fmt.Sprintf("M%d %d H%d", railX, p.box.CY(), p.box.Right()+2))
	}
	return paths, point{railX + 12, (svc.CY() + last) / 2}
}

// curve is a cubic Bézier from (x1, y1) to (x2, y2) that leaves and arrives
// horizontally.
func curve(x1, y1, x2, y2 int) string {
	dx := (x2 - x1) / 2
	return fmt.Sprintf("M%d %d C%d %d %d %d %d %d", x1, y1, x1+dx, y1, x2-dx, y2, x2, y2)
}

// riser leaves (x1, y1) upwards and arrives horizontally at (x2, y2): nginx's
// call to the Service climbs over the frontend container.
func riser(x1, y1, x2, y2 int) string {
	return fmt.Sprintf("M%d %d C%d %d %d %d %d %d", x1, y1, x1, y2, x2-(x2-x1)/3, y2, x2, y2)
}

// truncate shortens s to n characters: SVG text does not wrap.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
