//go:build e2e

package e2e

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podpaths/podpaths/lab/matrix"
	"github.com/podpaths/podpaths/platform/report"
)

// TestMatrix runs `make check`'s reachability matrix (lab/matrix) and makes
// each of its checks an assertion: every path from outside, and every path
// the pods report from inside, judged against its expectation. A check
// judges only a path that is there, so the paths themselves are checked
// against the inventory of what the lab's base deploys: a path that
// vanished from the report fails, as does one the inventory lacks.
func TestMatrix(t *testing.T) {
	r := begin(t, 2*time.Minute)
	res, err := matrix.New(r.env.Client, r.matrixConfig()).Run(r.ctx)
	if err != nil {
		t.Fatalf("run the matrix: %v", err)
	}
	var b strings.Builder
	if err := res.Write(&b); err != nil {
		t.Fatal(err)
	}
	t.Logf("matrix through %s:\n%s", res.Entry, b.String())
	t.Run("inventory", func(t *testing.T) {
		want, err := r.pathInventory()
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range res.Checks() {
			got = append(got, c.ID)
		}
		got = slices.Compact(slices.Sorted(slices.Values(got)))
		siblings, err := siblingsOf(got, want)
		if err != nil {
			t.Error(err)
		}
		if missing := without(want, got); len(missing) > 0 {
			t.Errorf("paths missing from the matrix: %s", strings.Join(missing, ", "))
		}
		if extra := without(without(got, want), siblings); len(extra) > 0 {
			t.Errorf("paths the inventory does not know (add them to pathInventory): %s", strings.Join(extra, ", "))
		}
	})
	for _, c := range res.Checks() {
		t.Run(c.ID, func(t *testing.T) {
			switch c.Outcome() {
			case report.OutcomeSkip:
				t.Skipf("%s", matrix.Line(c))
			case report.OutcomeFail:
				t.Errorf("%s (action %q)", matrix.Line(c), c.Action)
			}
		})
	}
}

// pathInventory is every path id the lab's base deploys on this cluster:
// the frontends' own paths, one headless row per backend pod, the NodePort
// on every node, and, with frontends on two nodes or more (as the two-node
// clusters spread them), each frontend's own report and spread. The
// sibling rows are siblingsOf's.
func (r *run) pathInventory() ([]string, error) {
	sts, err := r.env.Client.AppsV1().StatefulSets(r.env.Opts.Namespace).Get(r.ctx, "backend", metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	ids := []string{
		report.IDNginxFrontend, report.IDNginxBackend, report.IDSidecar, report.IDSticky, report.IDNearby, report.IDAlias,
		report.FrontendBackendID(report.MethodEnv), report.FrontendBackendID(report.MethodDNS), report.FrontendBackendID(report.MethodStatic),
		report.IDSpread, report.IDOutsidePaths, report.IDOutsideLoadBalancer, report.IDOutsideClusterIP, report.IDOutsidePeers, report.IDOutsideWhoami,
	}
	var pods []string
	for i := range int(*sts.Spec.Replicas) {
		pods = append(pods, fmt.Sprintf("backend-%d", i))
	}
	for _, p := range pods {
		ids = append(ids, report.HeadlessID(p))
	}
	if r.env.Localhost.Address != "" {
		ids = append(ids, report.OutsideNodePortID("localhost"))
	}
	ids = append(ids, report.IDOutsideExternalLB)
	if r.env.ExternalLB != "" {
		for _, name := range r.env.BehindExternalLB() {
			ids = append(ids, report.ExternalLBNodeID(name))
		}
	}
	for _, n := range r.env.Nodes {
		ids = append(ids, report.OutsideNodePortID(n.Name))
	}
	if nodes := r.env.SchedulableNodes(); len(nodes) > 1 {
		for _, n := range nodes {
			ids = append(ids, report.NodePathsID(n.Name), report.NodeSpreadID(n.Name))
		}
	}
	return slices.Sorted(slices.Values(ids)), nil
}

// siblingsOf checks the backends' sibling rows among got: which backends
// report them depends on which ones answered the frontends' /api/peers, so
// at least one must, and each that does lists a row for every backend pod
// (the headless rows in want name them). It returns those rows.
func siblingsOf(got, want []string) ([]string, error) {
	var pods []string
	for _, id := range want {
		if pod, ok := report.HeadlessPod(id); ok {
			pods = append(pods, pod)
		}
	}
	byReporter := map[string][]string{}
	for _, id := range got {
		if from, ok := report.SiblingFrom(id); ok {
			byReporter[from] = append(byReporter[from], id)
		}
	}
	if len(byReporter) == 0 {
		return nil, errors.New("no backend reported its siblings")
	}
	var rows []string
	for from, ids := range byReporter {
		for _, to := range pods {
			if !slices.Contains(ids, report.SiblingID(from, to)) {
				return nil, fmt.Errorf("%s lists its siblings without %s", from, to)
			}
		}
		rows = append(rows, ids...)
	}
	return rows, nil
}

// without is a minus b.
func without(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}
