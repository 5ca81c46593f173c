package dashboard

import (
	"slices"
	"testing"

	"github.com/podpaths/podpaths/platform/report"
)

func TestFindPods(t *testing.T) {
	t.Parallel()
	paths := []report.Path{
		{ID: report.HeadlessID("backend-2")},
		{ID: "frontend-backend-dns", AnsweredBy: &report.Pod{Pod: "backend-0", Node: "w1"}},
		{ID: "frontend-backend-elsewhere", AnsweredBy: &report.Pod{Pod: "not-a-pod-we-draw"}},
	}
	_, b := topologyFor(paths)
	if want := []string{"backend-0", "backend-2"}; !slices.Equal(b.pods, want) {
		t.Errorf("pods: got %q, want %q", b.pods, want)
	}
	if got := b.podNodes["backend-0"]; got != "w1" {
		t.Errorf("node of backend-0: got %q, want %q", got, "w1")
	}
}

// TestSidecarAttribution checks which backend pod a sidecar check is drawn
// in: the sidecar's own answer first, then the answer that carried it, and a
// check nobody can place stays out of the picture.
func TestSidecarAttribution(t *testing.T) {
	t.Parallel()
	failedSidecar := report.Path{ID: report.IDSidecar, ErrorKind: report.ErrorRefused}
	paths := []report.Path{
		{ID: report.HeadlessID("backend-0"), OK: true, AnsweredBy: &report.Pod{Pod: "backend-0"}, Hops: []report.Path{failedSidecar}},
		{ID: report.HeadlessID("backend-1"), OK: true, AnsweredBy: &report.Pod{Pod: "backend-1"}},
		{ID: report.IDSidecar, OK: true, AnsweredBy: &report.Pod{Pod: "backend-1"}},
		failedSidecar,
	}
	topo, b := topologyFor(paths)

	want := map[string]string{report.IDSidecar + "@backend-0": "fail", report.IDSidecar + "@backend-1": "pass"}
	for _, e := range topo.Edges {
		if class, ok := want[e.Key]; ok {
			if e.Outcome.Class != class {
				t.Errorf("edge %s: got %s, want %s", e.Key, e.Outcome.Class, class)
			}
			delete(want, e.Key)
		}
	}
	if len(want) > 0 {
		t.Errorf("edges missing: %v", want)
	}
	if last := len(b.flat) - 1; b.drawn[last] {
		t.Errorf("a sidecar check no answer places was drawn")
	}
}

// TestOneEdgeShowsTheWorstPath checks that an edge standing for several paths
// is marked by the worst of them.
func TestOneEdgeShowsTheWorstPath(t *testing.T) {
	t.Parallel()
	paths := []report.Path{
		{ID: report.HeadlessID("backend-0"), OK: true, AnsweredBy: &report.Pod{Pod: "backend-0"}},
		{ID: report.IDSidecar, OK: true, AnsweredBy: &report.Pod{Pod: "backend-0"}},
		{ID: report.IDSidecar, ErrorKind: report.ErrorTimeout, AnsweredBy: &report.Pod{Pod: "backend-0"}},
		{ID: report.IDSidecar, ErrorKind: report.ErrorUnconfigured, AnsweredBy: &report.Pod{Pod: "backend-0"}},
	}
	topo, _ := topologyFor(paths)
	i := slices.IndexFunc(topo.Edges, func(e edge) bool { return e.Key == report.IDSidecar+"@backend-0" })
	if i < 0 {
		t.Fatal("no sidecar edge for backend-0")
	}
	if got := topo.Edges[i]; got.Outcome.Class != "fail" || got.Label != "✗ localhost · timeout" {
		t.Errorf("sidecar edge: got %s %q, want fail %q", got.Outcome.Class, got.Label, "✗ localhost · timeout")
	}
}

func TestPeersSummariseWhenTheyDoNotFit(t *testing.T) {
	t.Parallel()
	var paths []report.Path
	pods := []string{"backend-with-a-long-name-0", "backend-with-a-long-name-1", "backend-with-a-long-name-2"}
	for _, p := range pods {
		paths = append(paths, report.Path{ID: report.HeadlessID(p), OK: true})
	}
	paths = append(paths,
		report.Path{ID: report.SiblingID(pods[0], pods[1]), OK: true},
		report.Path{ID: report.SiblingID(pods[0], pods[2]), ErrorKind: report.ErrorDNS},
	)
	topo, _ := topologyFor(paths)
	if len(topo.Peers) != len(pods) {
		t.Fatalf("peer lines: got %d, want %d", len(topo.Peers), len(pods))
	}
	if got, want := topo.Peers[0].Summary, "✗ 1 of 2 ok"; got != want {
		t.Errorf("peers of %s: got %q, want %q", pods[0], got, want)
	}
	if got, want := topo.Peers[1].Summary, "· not asked in this report"; got != want {
		t.Errorf("peers of %s: got %q, want %q", pods[1], got, want)
	}
}

// TestEdgesStayInThePicture checks that every node lies inside the SVG, so a
// growing report never draws off the edge.
func TestEdgesStayInThePicture(t *testing.T) {
	t.Parallel()
	flat := flatten(samplePage().Report.Paths)
	topo, _, _ := buildTopology(samplePage().Self, samplePage().Entry, flat)
	for _, n := range topo.Nodes {
		if n.X < 0 || n.Y < 0 || n.Right() > topo.Width || n.Bottom() > topo.Height {
			t.Errorf("node %q at %+v lies outside the %dx%d picture", n.Label, n.rect, topo.Width, topo.Height)
		}
	}
	for _, b := range topo.Boxes {
		if b.X < 0 || b.Y < 0 || b.Right() > topo.Width || b.Bottom() > topo.Height {
			t.Errorf("pod %q at %+v lies outside the %dx%d picture", b.Title, b.rect, topo.Width, topo.Height)
		}
	}
}

func topologyFor(paths []report.Path) (topology, *builder) {
	b := newBuilder(flatten(paths))
	return b.layout(report.Identity{}, Entry{}), b
}
