package dashboard

import (
	"cmp"
	"fmt"
	"maps"
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
	podNodeW  = 104 // a backend pod's containers: narrower, for their localhost label between them
	podPadX   = 20  // between a pod's border and its containers
	podPadY   = 14
	podTitleH = 30 // room for the pod's name above its containers
	peersH    = 22 // room for a backend pod's sibling checks
	podGap    = 20
	slotGap   = 24 // between edges arriving at the Service
	maxPods   = 6  // more are drawn as one box per node: the picture would be too tall
	browserX  = 10
	browserW  = 140
	fePodX    = 200
	fePodW    = 380
	colX      = 870 // the left side of the Service and the backend pods
	colW      = 330
	railX     = colX + colW + 18
	labelGap  = 8 // between an edge's label and the node it points at
	// runX is where the arrows leaving the frontend are level again: from
	// there to their target they run straight, each at its own height, so
	// that the labels above them have the room to themselves.
	runX = colX - 230
	// entryFit is how many characters of the entry's label fit under the
	// browser, before the frontend pod.
	entryFit = 24
	// charW is the width of one character of the sibling list: 12 px
	// monospace is about 7.2 px, and the label before it is narrower.
	charW = 7
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
		{id: report.IDNginxBackend, label: "nginx /my-be/ dns", fromNginx: true},
		{id: report.FrontendBackendID(report.MethodEnv), label: "env"},
		{id: report.FrontendBackendID(report.MethodDNS), label: "dns"},
		{id: report.FrontendBackendID(report.MethodStatic), label: "static · copied IP"},
		{id: report.IDSticky, label: "dns · sticky"},
		{id: report.IDLocal, label: "dns · local"},
		{id: report.IDNearby, label: "dns · nearby"},
		{id: report.IDAlias, label: "dns · alias"},
	}
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
func buildTopology(self report.Identity, entry Entry, flat []flatPath) (topology, []bool, []podsOnNode) {
	b := newBuilder(flat)
	return b.layout(self, entry), b.drawn, b.details()
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
		if pod, ok := report.HeadlessPod(f.ID); ok {
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
func (b *builder) layout(self report.Identity, entry Entry) topology {
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
		t.Edges = append(t.Edges, b.localEdge(report.IDNginxFrontend, b.byID[report.IDNginxFrontend], nginx, front))
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
	if len(b.byID[report.IDNginxFrontend]) > 0 || len(b.byID[report.IDNginxBackend]) > 0 {
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
	withPeers := b.anyPeers()
	h := podTitleH + nodeH + podPadY
	if withPeers {
		h += peersH
	}
	if len(names) > maxPods {
		return b.podGroups(y, h, withPeers)
	}
	for _, name := range names {
		pods = append(pods, newBackendPod(name, b.podNodes[name], rect{X: colX, Y: y, W: colW, H: h}, withPeers))
		y += h + podGap
	}
	return pods, 0
}

// podGroups draws one box per node for its backend pods: fifty pods would
// make the picture unreadable, while a box per node still shows where the
// traffic lands. Each box links to its pods' details below the picture.
func (b *builder) podGroups(y, h int, withPeers bool) (groups []backendPod, hidden int) {
	nodes := b.podsByNode()
	for _, n := range nodes {
		if len(groups) == maxPods {
			hidden += len(n.pods)
			continue
		}
		groups = append(groups, newPodGroup(n.node, n.pods, rect{X: colX, Y: y, W: colW, H: h}, withPeers))
		y += h + podGap
	}
	return groups, hidden
}

// nodePods are the backend pods on one node.
type nodePods struct {
	node string // "" when no answer said where the pods run
	pods []string
}

// podsByNode groups the backend pods by node, in the order of the nodes'
// names; pods whose node is not known come last.
func (b *builder) podsByNode() []nodePods {
	byNode := map[string][]string{}
	for _, name := range b.pods {
		byNode[b.podNodes[name]] = append(byNode[b.podNodes[name]], name)
	}
	nodes := slices.Sorted(maps.Keys(byNode))
	if nodes[0] == "" {
		nodes = append(nodes[1:], "")
	}
	groups := make([]nodePods, len(nodes))
	for i, n := range nodes {
		groups[i] = nodePods{node: n, pods: byNode[n]}
	}
	return groups
}

// newPodGroup lays out the box for the backend pods on one node.
func newPodGroup(nodeName string, members []string, r rect, withPeers bool) backendPod {
	p := newBackendPod("", "", r, withPeers)
	p.members, p.node = members, nodeName
	p.box.Class += " pod-group"
	p.box.Title = fmt.Sprintf("%d backend pods", len(members))
	p.box.Sub = "on " + cmp.Or(nodeName, "a node not reported")
	p.box.Href = "#" + podsAnchor(nodeName)
	p.backend.Sub = fmt.Sprintf("API × %d", len(members))
	p.sidecar.Sub = fmt.Sprintf("× %d", len(members))
	return p
}

// podsAnchor is the id of a node's pods in the details below the picture.
func podsAnchor(nodeName string) string {
	return "pods-on-" + cmp.Or(nodeName, "unknown-node")
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
	p.backend = node{rect: rect{X: r.X + podPadX, Y: inner, W: podNodeW, H: nodeH}, Class: "container", Label: "backend", Sub: "API"}
	p.sidecar = node{rect: rect{X: r.Right() - podPadX - podNodeW, Y: inner, W: podNodeW, H: nodeH}, Class: "container", Label: "sidecar", Sub: "loopback only"}
	return p
}

// anyPeers tells whether the report has any sibling check, which decides
// whether backend pods get room for a line of them.
func (b *builder) anyPeers() bool {
	for _, from := range b.pods {
		for _, to := range b.pods {
			if len(b.byID[report.SiblingID(from, to)]) > 0 {
				return true
			}
		}
	}
	return false
}

// frontendPod lays out the frontend pod with its vertical centre at cy.
func frontendPod(self report.Identity, cy int, withNginx bool) (pod box, nginx, front node) {
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
		sub = truncate(entry.Host, 20)
	}
	return node{rect: rect{X: browserX, Y: cy - nodeH/2, W: browserW, H: nodeH}, Class: "browser", Label: "browser", Sub: sub}
}
