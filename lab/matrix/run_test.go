package matrix

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stesting "k8s.io/client-go/testing"

	"github.com/podpaths/podpaths/platform/report"
)

// TestRunTimeoutBound proves a hanging entry costs the timeout and not more:
// the check fails as timeout close to the bound, and the run ends soon after.
func TestRunTimeoutBound(t *testing.T) {
	t.Parallel()
	const bound = 300 * time.Millisecond
	f := newFixture(t)
	f.cfg.OutsideTimeout = bound
	f.hang(nodeAddr(workerNode))
	start := time.Now()
	res := f.run()
	elapsed := time.Since(start)
	var c Check
	for _, x := range res.Checks() {
		if x.ID == report.OutsideNodePortID(workerNode) {
			c = x
		}
	}
	if c.ErrorKind != report.ErrorTimeout {
		t.Fatalf("hanging node: got kind %q, want timeout (line %q)", c.ErrorKind, Line(c))
	}
	latency := time.Duration(c.LatencyMS * float64(time.Millisecond))
	if latency < bound-10*time.Millisecond || latency > bound+time.Second {
		t.Errorf("hanging node latency: got %v, want about %v", latency, bound)
	}
	if elapsed > bound+3*time.Second {
		t.Errorf("run took %v with a %v bound", elapsed, bound)
	}
}

// TestRunDialsOnlyMappedAddresses proves the seam: a node address without a
// route is an error from the test dialer, not a connection attempt.
func TestRunDialsOnlyMappedAddresses(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	delete(f.routes, nodeAddr(cpNode))
	res := f.run()
	for _, c := range res.Checks() {
		if c.ID == report.OutsideNodePortID(cpNode) {
			if !strings.Contains(c.Error, "test dialer: no route to "+nodeAddr(cpNode)) {
				t.Errorf("unmapped node: got error %q, want the test dialer's", c.Error)
			}
			return
		}
	}
	t.Fatalf("no check for %s", cpNode)
}

func TestRunIdentity(t *testing.T) {
	t.Parallel()
	res := newFixture(t).run()
	for _, c := range res.Checks() {
		if c.ID != report.OutsideNodePortID(workerNode) {
			continue
		}
		if c.AnsweredBy == nil || c.AnsweredBy.Pod != "frontend-7c9-abcde" || c.AnsweredBy.Node != workerNode {
			t.Errorf("answered_by: got %+v, want frontend-7c9-abcde on %s", c.AnsweredBy, workerNode)
		}
		if c.ClientIPSeen != "172.18.0.1" {
			t.Errorf("client_ip_seen: got %q, want the X-Real-IP 172.18.0.1", c.ClientIPSeen)
		}
		if c.ToNode != workerNode || c.Status != http.StatusOK {
			t.Errorf("to_node/status: got %q/%d, want %s/200", c.ToNode, c.Status, workerNode)
		}
		return
	}
	t.Fatal("no check for the worker")
}

func TestRunListNodesError(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cs := f.clientset()
	cs.PrependReactor("list", "nodes", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "nodes"}, "", errors.New("rbac says no"))
	})
	_, err := New(cs, f.cfg).Run(t.Context())
	if err == nil || !strings.Contains(err.Error(), "list nodes") {
		t.Fatalf("Run with nodes forbidden: got %v, want a list nodes error", err)
	}
}
