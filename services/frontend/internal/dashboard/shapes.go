package dashboard

// The shapes of the picture, in SVG user units.

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
	// Href links a group of pods to their details below the picture.
	Href string
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

// podsOnNode are the backend pods of one node, listed under the picture.
type podsOnNode struct {
	Node   string // "" when no answer said
	Anchor string // the id a group box of the picture links to
	Pods   []podDetail
}

// podDetail is one backend pod and what the report says about it.
type podDetail struct {
	Name     string
	Headless outcome // the frontend's call by its own DNS name
	Sidecar  outcome // its call to its sidecar
	Siblings string  // its calls to the other backend pods, counted
}

// backendPod is a drawn backend pod, with its two containers, or a group of
// the pods on one node when there are too many to draw one by one.
type backendPod struct {
	name     string   // "" for the stand-in drawn when no pod is known, and for a group
	members  []string // a group's pods
	node     string   // a group's node
	box      box
	backend  node
	sidecar  node
	hasPeers bool
}

// pods are the backend pods this box stands for.
func (p backendPod) pods() []string {
	if p.members != nil {
		return p.members
	}
	if p.name != "" {
		return []string{p.name}
	}
	return nil
}

// key names the box in the keys of its edges.
func (p backendPod) key() string {
	if p.members != nil {
		return "node:" + p.node
	}
	return p.name
}
