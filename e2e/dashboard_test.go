//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podpaths/podpaths/e2e/internal/browser"
	"github.com/podpaths/podpaths/e2e/internal/cluster"
	"github.com/podpaths/podpaths/platform/report"
)

// The dashboard in a real browser: what a workshop room looks at.

// dashboardWidths are a projector's page and a half-screen window.
var dashboardWidths = []int64{1400, 800}

// screenshots is where each state of the page is saved, under the root's
// _output (the suite runs in e2e/).
var screenshots = filepath.Join("..", "_output", "e2e", "browser")

// TestDashboard opens the dashboard through the NodePort in headless
// Chromium, at each width: no console error; a row for every path of
// /api/paths; every arrow and sibling mark coloured as its rows' result, in
// the legend's colour; no text overlapping another, crossing a box's border,
// leaving the picture or crossed by a line; a picture wider than the window
// scrolls; the picture has a text alternative; every control is reached
// with Tab; and with auto-refresh switched on from the keyboard, a path
// broken on purpose turns red without anyone reloading the page.
func TestDashboard(t *testing.T) {
	r := begin(t, 5*time.Minute)
	bin, err := browser.Find()
	if err != nil {
		t.Fatal(err)
	}
	b, err := browser.Start(r.ctx, bin)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	url := r.entry(t) + "/"

	checkAtEveryWidth(t, r, b, url, "lab")
	t.Run("keyboard", func(t *testing.T) {
		p, _ := openDashboard(t, b, url, dashboardWidths[0], "keyboard")
		checkTabReachesEveryControl(t, p)
	})
	t.Run("auto-refresh shows a broken path", func(t *testing.T) {
		p, _ := openDashboard(t, b, url, dashboardWidths[0], "before-break")
		switchAutoRefreshOn(t, p)
		r.breakAlias(t)
		waitForRedAlias(t, r.ctx, p)
		if err := p.Screenshot(filepath.Join(screenshots, "broken-path.png")); err != nil {
			t.Error(err)
		}
		a, err := p.Audit()
		if err != nil {
			t.Fatal(err)
		}
		checkDrawing(t, a)
		checkMarks(t, a)
	})
}

// fiftyBackends is the size at which the picture must group pods per node.
const fiftyBackends = 50

// TestDashboardAtFiftyBackends scales the backend to fifty pods: the
// frontend's report names every one (its headless path) and one backend's
// answer carries a sibling check of every one; the dashboard passes the
// same checks as at three, drawing a box per node; and the services' memory,
// as the kubelet measures it, stays under memoryBound.
func TestDashboardAtFiftyBackends(t *testing.T) {
	r := begin(t, 12*time.Minute)
	bin, err := browser.Find()
	if err != nil {
		t.Fatal(err)
	}
	r.scaleWithin(t, cluster.Backend, fiftyBackends, 8*time.Minute)
	pods := podNames(r.pods(t, cluster.Backend))
	if len(pods) != fiftyBackends {
		t.Fatalf("%d backend pods run, want %d", len(pods), fiftyBackends)
	}
	r.waitForCompleteReport(t, pods)

	b, err := browser.Start(r.ctx, bin)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	checkAtEveryWidth(t, r, b, r.entry(t)+"/", "fifty-backends")
	t.Run("memory", func(t *testing.T) { r.checkMemory(t) })
}

// checkAtEveryWidth opens the dashboard at each width and checks it.
func checkAtEveryWidth(t *testing.T, r *run, b *browser.Browser, url, state string) {
	t.Helper()
	for _, width := range dashboardWidths {
		t.Run(fmt.Sprintf("%dpx", width), func(t *testing.T) {
			p, a := openDashboard(t, b, url, width, state)
			checkDrawing(t, a)
			checkRows(t, a, topLevelIDs(r.pathReport(t)))
			checkMarks(t, a)
			checkTextAlternative(t, a)
			if errs := p.Errors(); len(errs) > 0 {
				t.Errorf("console errors: %q", errs)
			}
		})
	}
}

// waitForCompleteReport waits until the frontend's report has an ok
// headless path to every pod, and a backend's answer carries an ok sibling
// check of every pod (DNS catches up with new pods within its cache time).
func (r *run) waitForCompleteReport(t *testing.T, pods []string) {
	t.Helper()
	err := cluster.Eventually(r.ctx, 3*time.Minute, 2*time.Second, func(ctx context.Context) (string, bool) {
		rep, err := r.reportNow(ctx)
		if err != nil {
			return err.Error(), false
		}
		missing := missingPaths(rep, pods)
		return fmt.Sprintf("%d paths not ok yet, e.g. %q", len(missing), missing[:min(3, len(missing))]), len(missing) == 0
	})
	if err != nil {
		t.Fatalf("the report never named all %d backend pods: %v", len(pods), err)
	}
}

// missingPaths lists the headless paths to pods that are not ok, and, for
// the backend whose answer carries the most ok sibling checks, the siblings
// it has no ok check of.
func missingPaths(rep report.Report, pods []string) []string {
	ok := map[string]bool{}
	var walk func([]report.Path)
	walk = func(paths []report.Path) {
		for _, p := range paths {
			ok[p.ID] = ok[p.ID] || p.OK
			walk(p.Hops)
		}
	}
	walk(rep.Paths)
	var missing, bestSiblings []string
	for _, pod := range pods {
		if !ok[report.HeadlessID(pod)] {
			missing = append(missing, report.HeadlessID(pod))
		}
	}
	for i, from := range pods {
		var lacking []string
		for _, to := range pods {
			if !ok[report.SiblingID(from, to)] {
				lacking = append(lacking, report.SiblingID(from, to))
			}
		}
		if i == 0 || len(lacking) < len(bestSiblings) {
			bestSiblings = lacking
		}
	}
	return append(missing, bestSiblings...)
}

// memoryBound is what one container of the lab may use at fifty backends:
// the services hold one report each, and a report grows with the pods.
const memoryBound = 64 << 20

// checkMemory reads every lab container's working set from its node's
// kubelet (/stats/summary, through the API server) and fails for any above
// memoryBound, logging the largest of each.
func (r *run) checkMemory(t *testing.T) {
	t.Helper()
	largest := map[string]uint64{}
	for _, n := range r.env.Nodes {
		raw, err := r.env.Client.CoreV1().RESTClient().Get().AbsPath("/api/v1/nodes", n.Name, "proxy/stats/summary").DoRaw(r.ctx)
		if err != nil {
			t.Fatalf("stats of node %s: %v", n.Name, err)
		}
		var summary struct {
			Pods []struct {
				PodRef struct {
					Name      string `json:"name"`
					Namespace string `json:"namespace"`
				} `json:"podRef"`
				Containers []struct {
					Name   string `json:"name"`
					Memory struct {
						WorkingSetBytes *uint64 `json:"workingSetBytes"`
					} `json:"memory"`
				} `json:"containers"`
			} `json:"pods"`
		}
		if err := json.Unmarshal(raw, &summary); err != nil {
			t.Fatalf("stats of node %s: %v", n.Name, err)
		}
		for _, p := range summary.Pods {
			if p.PodRef.Namespace != r.env.Opts.Namespace {
				continue
			}
			for _, c := range p.Containers {
				if c.Memory.WorkingSetBytes == nil {
					continue
				}
				used := *c.Memory.WorkingSetBytes
				largest[c.Name] = max(largest[c.Name], used)
				if used > memoryBound {
					t.Errorf("%s/%s uses %d MiB, more than %d MiB", p.PodRef.Name, c.Name, used>>20, memoryBound>>20)
				}
			}
		}
	}
	if len(largest) == 0 {
		t.Fatal("the kubelets report no memory for any container of the lab")
	}
	for _, name := range sortedKeys(largest) {
		t.Logf("largest working set of a %s container: %.1f MiB", name, float64(largest[name])/(1<<20))
	}
}

// breakAlias deletes the ExternalName Service backend-alias, so that the
// frontend's alias path fails its DNS lookup, and puts it back afterwards.
func (r *run) breakAlias(t *testing.T) {
	t.Helper()
	services := r.env.Client.CoreV1().Services(r.env.Opts.Namespace)
	svc, err := services.Get(r.ctx, "backend-alias", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := services.Delete(r.ctx, svc.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	r.undo("delete service backend-alias", 3*time.Minute, func(ctx context.Context) error {
		again := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: svc.Name, Namespace: svc.Namespace, Labels: svc.Labels, Annotations: svc.Annotations},
			Spec:       svc.Spec,
		}
		if _, err := services.Create(ctx, again, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
		return r.waitForPath(ctx, report.IDAlias)
	})
}

// reportNow is the frontend's report through the NodePort, for a wait that
// must not fail the test at its first try, as pathReport does.
func (r *run) reportNow(ctx context.Context) (report.Report, error) {
	var rep report.Report
	c := fromHere(ctx, r.entryURL(ctx)+"/api/paths", reportTimeout).Calls[0]
	if !c.OK || json.Unmarshal(c.Body, &rep) != nil {
		return rep, fmt.Errorf("no report: %s", describeCall(c))
	}
	return rep, nil
}

// waitForPath waits until the frontend's report says the path is ok again.
func (r *run) waitForPath(ctx context.Context, id string) error {
	return cluster.Eventually(ctx, 2*time.Minute, time.Second, func(ctx context.Context) (string, bool) {
		rep, err := r.reportNow(ctx)
		if err != nil {
			return err.Error(), false
		}
		for _, p := range rep.Paths {
			if p.ID == id {
				return describePath(p), p.OK
			}
		}
		return "the report has no path " + id, false
	})
}

// waitForRedAlias waits, without touching the page, until it has reloaded
// itself and shows the alias row and arrow failed.
func waitForRedAlias(t *testing.T, ctx context.Context, p *browser.Page) {
	t.Helper()
	type state struct {
		Marked bool   `json:"marked"`
		Row    string `json:"row"`
		Arrow  string `json:"arrow"`
	}
	script := fmt.Sprintf(`({
		marked: window.podpathsTestMark === true,
		row: document.querySelector('tr[data-path=%[1]q]')?.className ?? "no row",
		arrow: document.querySelector('g.edge[data-edge=%[1]q]')?.getAttribute("class") ?? "no arrow",
	})`, report.IDAlias)
	err := cluster.Eventually(ctx, 2*time.Minute, time.Second, func(context.Context) (string, bool) {
		s, err := browser.Eval[state](p, script)
		if err != nil {
			// The page is between two loads.
			return err.Error(), false
		}
		red := !s.Marked && slices.Contains(strings.Fields(s.Row), "row-fail") && slices.Contains(strings.Fields(s.Arrow), "edge-fail")
		return fmt.Sprintf("reloaded %v, row %q, arrow %q", !s.Marked, s.Row, s.Arrow), red
	})
	if err != nil {
		t.Fatalf("with backend-alias deleted and auto-refresh on, the page never showed %s failed: %v", report.IDAlias, err)
	}
}
