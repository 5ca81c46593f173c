package dashboard

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/podpaths/podpaths/platform/report"
)

// The picture runs left to right, the way the traffic flows: the browser, the
// frontend pod (nginx in front of the frontend, in one network namespace),
// then a column with the backend ClusterIP Service on top and the backend
// pods, each with its sidecar, under it. Sizes are SVG user units; the SVG
// scales to the width of the page.
const (
	svgWidth  = 1240
	svgTop    = 16
	nodeW     = 120
	nodeH     = 52
	podPadX   = 20 // between a pod's border and its containers
	podPadY   = 14
	podTitleH = 30 // room for the pod's name above its containers
	peersH    = 22 // room for a backend pod's sibling checks
	podGap    = 20
	slotGap   = 24 // between edges arriving at the Service
	maxPods   = 6  // more would make the picture too tall; the table has them all
	browserX  = 10
	browserW  = 100
	fePodX    = 230
	fePodW    = 380
	colX      = 840 // the left side of the Service and the backend pods
	colW      = 360
	railX     = colX + colW + 18
	labelGap  = 8  // between an edge's label and the node it points at
	peersFit  = 44 // characters of sibling names that fit on one line of a pod
)

// Path ids the picture draws; DESIGN.md section 3 lists them.
const (
	idNginxFrontend = "nginx-frontend-localhost"
	idNginxBackend  = "nginx-backend-dns"
	idSidecar       = "backend-sidecar-localhost"
	prefixHeadless  = "frontend-backend-headless-"
)

// serviceRoute is a path through a ClusterIP Service, where kube-proxy, not
// the caller, picks the backend pod.
type serviceRoute struct {
	id        string
	label     string
	fromNginx bool
}

// serviceRoutes lists the ClusterIP paths in the order their edges arrive at
// the Service, top to bottom. nginx's edge comes first: it arrives from above.
func serviceRoutes() []serviceRoute {
	return []serviceRoute{
		{id: idNginxBackend, label: "nginx /my-be/ dns", fromNginx: true},
		{id: "frontend-backend-env", label: "env"},
		{id: "frontend-backend-dns", label: "dns"},
		{id: "frontend-backend-sticky-dns", label: "dns · sticky"},
		{id: "frontend-backend-local-dns", label: "dns · local"},
	}
}

// siblingID is the id of the path from one backend pod to another by its
// per-pod headless name.
func siblingID(from, to string) string {
	return "backend-" + from + "-backend-" + to + "-headless"
}

// topology is the picture, ready to draw.
type topology struct {
	Width, Height int
	Boxes         []box // pods, drawn first, behind their containers
	Nodes         []node
	Edges         []edge
	Peers         []peerLine
	Rails         []string // the Service's link to its endpoints, as SVG path data
	RailLabel     point
	More          string // pods left out of the picture, if any
	MoreAt        point
}

type point struct{ X, Y int }

type rect struct{ X, Y, W, H int }

// CX is the horizontal centre.
func (r rect) CX() int { return r.X + r.W/2 }

// CY is the vertical centre.
func (r rect) CY() int { return r.Y + r.H/2 }

// Right is the right edge.
func (r rect) Right() int { return r.X + r.W }

// Bottom is the bottom edge.
func (r rect) Bottom() int { return r.Y + r.H }

// box is a pod: a border around the containers that share its network.
type box struct {
	rect
	Class string
	Title string // the pod name
	Sub   string // the node it runs on
	// RightTitle puts the name in the top right corner, out of the way of
	// an edge leaving the pod upwards.
	RightTitle bool
}

// TitleX places the pod's name in its top left or top right corner.
func (b box) TitleX() int {
	if b.RightTitle {
		return b.Right() - 12
	}
	return b.X + 12
}

// TitleAnchor is the SVG text-anchor that goes with TitleX.
func (b box) TitleAnchor() string {
	if b.RightTitle {
		return "end"
	}
	return "start"
}

// TitleY is the baseline of the pod's name.
func (b box) TitleY() int { return b.Y + 20 }

// node is a container, the browser or the Service.
type node struct {
	rect
	Class string
	Label string
	Sub   string
}

// LabelY is the baseline of the node's name: the name and its sub-label are
// centred together.
func (n node) LabelY() int {
	if n.Sub == "" {
		return n.CY() + 5
	}
	return n.CY() - 4
}

// SubY is the baseline of the sub-label.
func (n node) SubY() int { return n.CY() + 14 }

// edge is an arrow for one or more paths.
type edge struct {
	Key     string // the path id, or "entry"; tests and tooltips use it
	Outcome outcome
	D       string // SVG path data
	Label   string
	At      point
	Anchor  string // SVG text-anchor of the label
	Title   string // tooltip
}

// peerLine lists the sibling checks made from one backend pod.
type peerLine struct {
	point
	Peers   []peer
	Summary string // replaces the names when they do not fit
	Outcome outcome
}

// peer is one sibling check.
type peer struct {
	Key     string
	Name    string
	Outcome outcome
}

// backendPod is a drawn backend pod, with its two containers.
type backendPod struct {
	name     string // "" for the stand-in drawn when no pod is known
	box      box
	backend  node
	sidecar  node
	hasPeers bool
}

// builder lays out the picture and remembers which paths it drew.
type builder struct {
	flat     []flatPath
	drawn    []bool
	byID     map[string][]int // indices into flat
	pods     []string         // backend pods by name, sorted
	podNodes map[string]string
}

// buildTopology lays out the picture for a report. The returned slice tells,
// for each path of flat, whether the picture has an edge for it: the table
// says so for those it does not.
func buildTopology(self Identity, entry Entry, flat []flatPath) (topology, []bool) {
	b := newBuilder(flat)
	return b.layout(self, entry), b.drawn
}

// newBuilder indexes the paths by id and finds the backend pods to draw.
func newBuilder(flat []flatPath) *builder {
	b := &builder{flat: flat, drawn: make([]bool, len(flat)), byID: map[string][]int{}, podNodes: map[string]string{}}
	for i, f := range flat {
		b.byID[f.ID] = append(b.byID[f.ID], i)
	}
	b.findPods()
	return b
}

// findPods collects the backend pods the report mentions: the targets of
// headless paths and whoever answered a call to the backend.
func (b *builder) findPods() {
	seen := map[string]bool{}
	add := func(pod, node string) {
		if pod == "" {
			return
		}
		seen[pod] = true
		if node != "" {
			b.podNodes[pod] = node
		}
	}
	for _, f := range b.flat {
		answered := report.Pod{}
		if f.AnsweredBy != nil {
			answered = *f.AnsweredBy
		}
		if pod, ok := strings.CutPrefix(f.ID, prefixHeadless); ok {
			add(pod, "")
			add(answered.Pod, answered.Node)
		}
		if isServiceRoute(f.ID) {
			add(answered.Pod, answered.Node)
		}
	}
	for pod := range seen {
		b.pods = append(b.pods, pod)
	}
	slices.Sort(b.pods)
}

// isServiceRoute tells whether a path goes through a ClusterIP.
func isServiceRoute(id string) bool {
	return slices.ContainsFunc(serviceRoutes(), func(r serviceRoute) bool { return r.id == id })
}

// layout places everything. The backend column is laid out first because the
// frontend pod is centred on it.
func (b *builder) layout(self Identity, entry Entry) topology {
	t := topology{Width: svgWidth}
	routes := b.presentRoutes()
	svc := serviceNode(len(routes))
	pods, hidden := b.backendPods(svc.Bottom() + 40)
	bottom := pods[len(pods)-1].box.Bottom()
	if hidden > 0 {
		t.More = fmt.Sprintf("+ %d more %s, listed in the table", hidden, plural(hidden, "pod", "pods"))
		t.MoreAt = point{colX + 12, bottom + 24}
		bottom += 32
	}

	withNginx := b.hasNginx(entry)
	fePod, nginx, front := frontendPod(self, (svgTop+bottom)/2, withNginx)
	browser := browserNode(entry, front.CY())
	entryTarget := front
	if withNginx {
		entryTarget = nginx
	}

	t.Boxes = append(t.Boxes, fePod)
	t.Nodes = append(t.Nodes, browser, front, svc)
	t.Edges = append(t.Edges, entryEdge(entry, browser, entryTarget))
	if withNginx {
		t.Nodes = append(t.Nodes, nginx)
		t.Edges = append(t.Edges, b.localEdge(idNginxFrontend, b.byID[idNginxFrontend], nginx, front))
	}
	t.Edges = append(t.Edges, b.frontendEdges(routes, svc, nginx, front, pods)...)
	for _, p := range pods {
		t.Boxes = append(t.Boxes, p.box)
		t.Nodes = append(t.Nodes, p.backend, p.sidecar)
		t.Edges = append(t.Edges, b.sidecarEdge(p, len(pods) == 1))
		if line, ok := b.peers(p); ok {
			t.Peers = append(t.Peers, line)
		}
	}
	t.Rails, t.RailLabel = rails(svc, pods)
	t.Height = bottom + 20
	return t
}

// presentRoutes are the ClusterIP routes the report has, in drawing order.
func (b *builder) presentRoutes() []serviceRoute {
	var present []serviceRoute
	for _, r := range serviceRoutes() {
		if len(b.byID[r.id]) > 0 {
			present = append(present, r)
		}
	}
	return present
}

// hasNginx tells whether nginx fronts the frontend: a path from nginx, or a
// client address nginx saw, says so. Run on a laptop without nginx, the page
// has neither and the browser's arrow goes straight to the frontend.
func (b *builder) hasNginx(entry Entry) bool {
	if len(b.byID[idNginxFrontend]) > 0 || len(b.byID[idNginxBackend]) > 0 {
		return true
	}
	return slices.ContainsFunc(entry.ClientIPs, func(h Hop) bool { return strings.EqualFold(h.Hop, "nginx") })
}

// serviceNode is the ClusterIP, tall enough for every edge that arrives.
func serviceNode(slots int) node {
	h := max(84, 16+slots*slotGap)
	return node{
		rect:  rect{X: colX, Y: svgTop, W: colW, H: h},
		Class: "service",
		Label: "ClusterIP Service",
		Sub:   "kube-proxy picks a ready pod per connection",
	}
}

// slotY is where the i-th edge arrives at the Service.
func slotY(svc node, i int) int {
	return svc.Y + 8 + slotGap/2 + i*slotGap
}

// backendPods lays out the backend pods from y down. With no pod known it
// draws one stand-in, so the picture still shows where the sidecar lives.
func (b *builder) backendPods(y int) (pods []backendPod, hidden int) {
	names := b.pods
	if len(names) == 0 {
		names = []string{""}
	}
	if len(names) > maxPods {
		hidden = len(names) - maxPods
		names = names[:maxPods]
	}
	withPeers := b.anyPeers()
	h := podTitleH + nodeH + podPadY
	if withPeers {
		h += peersH
	}
	for _, name := range names {
		pods = append(pods, newBackendPod(name, b.podNodes[name], rect{X: colX, Y: y, W: colW, H: h}, withPeers))
		y += h + podGap
	}
	return pods, hidden
}

// newBackendPod lays out one backend pod in r, its backend and sidecar side
// by side.
func newBackendPod(name, nodeName string, r rect, withPeers bool) backendPod {
	p := backendPod{name: name, hasPeers: withPeers, box: box{rect: r, Class: "pod backend-pod", Title: truncate(name, 30)}}
	switch {
	case name == "":
		p.box.Title, p.box.Sub = "backend pod", "no pod has answered"
	case nodeName != "":
		p.box.Sub = "on " + nodeName
	}
	inner := r.Y + podTitleH
	p.backend = node{rect: rect{X: r.X + podPadX, Y: inner, W: nodeW, H: nodeH}, Class: "container", Label: "backend", Sub: "API"}
	p.sidecar = node{rect: rect{X: r.Right() - podPadX - nodeW, Y: inner, W: nodeW, H: nodeH}, Class: "container", Label: "sidecar", Sub: "loopback only"}
	return p
}

// anyPeers tells whether the report has any sibling check, which decides
// whether backend pods get room for a line of them.
func (b *builder) anyPeers() bool {
	for _, from := range b.pods {
		for _, to := range b.pods {
			if len(b.byID[siblingID(from, to)]) > 0 {
				return true
			}
		}
	}
	return false
}

// frontendPod lays out the frontend pod with its vertical centre at cy.
func frontendPod(self Identity, cy int, withNginx bool) (pod box, nginx, front node) {
	h := podTitleH + nodeH + podPadY
	pod = box{rect: rect{X: fePodX, Y: cy - h/2, W: fePodW, H: h}, Class: "pod frontend-pod", Title: truncate(self.Pod, 30), RightTitle: withNginx}
	if pod.Title == "" {
		pod.Title = "frontend pod"
	}
	if self.Node != "" {
		pod.Sub = "on " + self.Node
	}
	inner := pod.Y + podTitleH
	front = node{rect: rect{X: pod.Right() - podPadX - nodeW, Y: inner, W: nodeW, H: nodeH}, Class: "container self", Label: "frontend", Sub: "this page"}
	if withNginx {
		nginx = node{rect: rect{X: pod.X + podPadX, Y: inner, W: nodeW, H: nodeH}, Class: "container", Label: "nginx", Sub: "reverse proxy"}
	}
	return pod, nginx, front
}

// browserNode is the reader, labelled with the host they typed.
func browserNode(entry Entry, cy int) node {
	sub := "you"
	if entry.Host != "" {
		sub = truncate(entry.Host, 16)
	}
	return node{rect: rect{X: browserX, Y: cy - nodeH/2, W: browserW, H: nodeH}, Class: "browser", Label: "browser", Sub: sub}
}

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
		id := prefixHeadless + p.name
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
	for _, i := range b.byID[idSidecar] {
		if only || b.sidecarPod(b.flat[i]) == p.name {
			mine = append(mine, i)
		}
	}
	return b.localEdge(idSidecar+"@"+p.name, mine, p.backend, p.sidecar)
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
		id := siblingID(p.name, to)
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
