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
	// The label goes under the browser, where the column is empty: between
	// the browser and the pod there is room only for the arrow.
	return edge{
		Key:     "entry",
		Outcome: outcome{Class: "entry", Symbol: "→", Text: "how you came in"},
		D:       curve(browser.Right(), y, target.X-2, y),
		Label:   truncate(via, entryFit),
		At:      point{browser.X, browser.Bottom() + 18},
		Anchor:  "start",
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
			e.D = riser(nginx.X+14, nginx.Y, runX, to.X, to.Y)
			edges = append(edges, e)
			continue
		}
		fromFront = append(fromFront, pending{e, to})
	}
	for _, p := range pods {
		key, label, paths := b.headless(p)
		if len(paths) == 0 {
			continue
		}
		to := point{p.backend.X - 2, p.backend.CY()}
		e := b.edge(key, label, paths, false)
		e.At, e.Anchor = point{colX - labelGap, to.Y - 6}, "end"
		fromFront = append(fromFront, pending{e, to})
	}
	// Spread the starts over the frontend's right side in the order of their
	// targets, top to bottom, so that no two edges cross.
	slices.SortStableFunc(fromFront, func(a, b pending) int { return cmp.Compare(a.to.Y, b.to.Y) })
	for i, p := range fromFront {
		startY := front.Y + 10 + (i+1)*(nodeH-20)/(len(fromFront)+1)
		p.D = curve(front.Right(), startY, runX, p.to.Y) + fmt.Sprintf(" H%d", p.to.X)
		edges = append(edges, p.edge)
	}
	return edges
}

// headless are the frontend's calls to the pods of a box by their own DNS
// names: one path for a pod, all of its pods' for a group.
func (b *builder) headless(p backendPod) (key, label string, paths []int) {
	for _, name := range p.pods() {
		paths = append(paths, b.byID[report.HeadlessID(name)]...)
	}
	if p.members == nil {
		return report.HeadlessID(p.name), "headless", paths
	}
	return report.IDHeadless + "@" + p.key(), fmt.Sprintf("headless × %d", len(p.members)), paths
}

// sidecarEdge is the backend's call to its sidecar over the pod's loopback.
// The answer that carried the check tells which pod made it; when only one pod
// is drawn, that pod made every check.
func (b *builder) sidecarEdge(p backendPod, only bool) edge {
	var mine []int
	for _, i := range b.byID[report.IDSidecar] {
		if only || slices.Contains(p.pods(), b.sidecarPod(b.flat[i])) {
			mine = append(mine, i)
		}
	}
	return b.localEdge(report.IDSidecar+"@"+p.key(), mine, p.backend, p.sidecar)
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
	if !p.hasPeers || len(p.pods()) == 0 {
		return peerLine{}, false
	}
	line := peerLine{point: point{p.box.X + podPadX, p.box.Bottom() - 12}, Outcome: notReported()}
	width, passed := len("siblings"), 0
	for _, from := range p.pods() {
		for _, to := range b.pods {
			id := report.SiblingID(from, to)
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
	}
	switch {
	case len(line.Peers) == 0:
		line.Summary = line.Outcome.Symbol + " " + line.Outcome.Text
	case p.members != nil || width*charW > p.box.W-2*podPadX:
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
	if len(pods[0].pods()) == 0 {
		return nil, point{}
	}
	last := pods[len(pods)-1].box.CY()
	paths := []string{fmt.Sprintf("M%d %d H%d V%d", svc.Right(), svc.CY(), railX, last)}
	for _, p := range pods {
		paths = append(paths, fmt.Sprintf("M%d %d H%d", railX, p.box.CY(), p.box.Right()+2))
	}
	return paths, point{railX - 6, svc.Bottom() + 25}
}

// curve is a cubic Bézier from (x1, y1) to (x2, y2) that leaves and arrives
// horizontally.
func curve(x1, y1, x2, y2 int) string {
	dx := (x2 - x1) / 2
	return fmt.Sprintf("M%d %d C%d %d %d %d %d %d", x1, y1, x1+dx, y1, x2-dx, y2, x2, y2)
}

// riser leaves (x1, y1) upwards, is level at (run, y2) and runs straight to
// (x2, y2): nginx's call to the Service climbs over the frontend container.
func riser(x1, y1, run, x2, y2 int) string {
	return fmt.Sprintf("M%d %d C%d %d %d %d %d %d H%d", x1, y1, x1, y2, run-(run-x1)/3, y2, run, y2, x2)
}

// truncate shortens s to n characters: SVG text does not wrap.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// details lists every backend pod by node, with its own results: the picture
// groups them when there are many, and this is where each one is shown.
func (b *builder) details() []podsOnNode {
	if len(b.pods) == 0 {
		return nil
	}
	var out []podsOnNode
	for _, n := range b.podsByNode() {
		group := podsOnNode{Node: n.node, Anchor: podsAnchor(n.node)}
		for _, name := range n.pods {
			group.Pods = append(group.Pods, podDetail{
				Name:     name,
				Headless: b.outcomeOf(b.byID[report.HeadlessID(name)]),
				Sidecar:  b.outcomeOf(b.sidecarPaths(name)),
				Siblings: b.siblingCount(name),
			})
		}
		out = append(out, group)
	}
	return out
}

// outcomeOf is the worst outcome of paths, or not asked when there are none.
func (b *builder) outcomeOf(paths []int) outcome {
	if len(paths) == 0 {
		return notReported()
	}
	_, o := b.worst(paths)
	return o
}

// sidecarPaths are the checks of pod's sidecar.
func (b *builder) sidecarPaths(pod string) []int {
	var mine []int
	for _, i := range b.byID[report.IDSidecar] {
		if b.sidecarPod(b.flat[i]) == pod {
			mine = append(mine, i)
		}
	}
	return mine
}

// siblingCount reads like "✓ 49 of 49 ok".
func (b *builder) siblingCount(from string) string {
	var paths []int
	passed := 0
	for _, to := range b.pods {
		for _, i := range b.byID[report.SiblingID(from, to)] {
			paths = append(paths, i)
			if b.flat[i].Outcome() == report.OutcomePass {
				passed++
			}
		}
	}
	o := b.outcomeOf(paths)
	if len(paths) == 0 {
		return o.Symbol + " " + o.Text
	}
	return fmt.Sprintf("%s %d of %d ok", o.Symbol, passed, len(paths))
}
