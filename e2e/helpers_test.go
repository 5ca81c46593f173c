//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podpaths/podpaths/e2e/internal/cluster"
	"github.com/podpaths/podpaths/e2e/internal/probecmd"
	"github.com/podpaths/podpaths/platform/report"
)

// callTimeout bounds one HTTP call from a probe or from this machine. A
// frontend's /api/paths waits for its own peers, each with its own timeout,
// so it needs more than a single hop.
const (
	callTimeout   = 5 * time.Second
	reportTimeout = 30 * time.Second
)

// run is one top-level test: its deadline, and the dump and the undoing of
// its changes when it ends.
type run struct {
	*suite
	t    *testing.T
	ctx  context.Context
	dump sync.Once
	// scaled marks the workloads whose original size an undo restores.
	scaled map[cluster.Workload]bool
}

// begin starts a top-level test. Its context ends after timeout. When the
// test or any subtest fails, the cluster is dumped into the test's log,
// before any change is undone, so the dump shows the state that failed.
func begin(t *testing.T, timeout time.Duration) *run {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	r := &run{suite: lab, t: t, ctx: ctx, scaled: map[cluster.Workload]bool{}}
	t.Cleanup(r.dumpIfFailed)
	t.Cleanup(cancel)
	return r
}

func (r *run) dumpIfFailed() {
	if !r.t.Failed() {
		return
	}
	r.dump.Do(func() {
		// The test's own context is cancelled before cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		r.t.Logf("%s failed; state of the cluster:\n%s", r.t.Name(), r.env.Dump(ctx))
	})
}

// undo registers fn to undo a change to the cluster when the test ends,
// with a deadline of its own. Undoing must work, or the next tests would
// run against a changed lab, so a failure fails this test.
func (r *run) undo(what string, timeout time.Duration, fn func(ctx context.Context) error) {
	r.t.Cleanup(func() {
		r.dumpIfFailed()
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		if err := fn(ctx); err != nil {
			r.t.Errorf("undo %s: %v", what, err)
		}
	})
}

// entry is the base URL where this machine reaches nginx through the
// NodePort on a node's InternalIP.
func (r *run) entry(t *testing.T) string {
	t.Helper()
	u := r.entryURL(r.ctx)
	if u == "" {
		t.Fatal("no ready node has an InternalIP and frontend-nodeport a nodePort to reach nginx on")
	}
	return u
}

// entryURL is entry for cleanups, which have no test to fail: "" when there
// is none.
func (r *run) entryURL(ctx context.Context) string {
	svc, err := r.env.Client.CoreV1().Services(r.env.Opts.Namespace).Get(ctx, "frontend-nodeport", metav1.GetOptions{})
	if err != nil || len(svc.Spec.Ports) == 0 || svc.Spec.Ports[0].NodePort == 0 {
		return ""
	}
	for _, n := range r.env.Nodes {
		if n.IP != "" && n.Ready {
			return "http://" + cluster.NodePortAddr(n.IP, svc.Spec.Ports[0].NodePort)
		}
	}
	return ""
}

// fromHere makes a call from this machine, outside the cluster, the way the
// probe does, so that the results read the same. It opens a new connection.
func fromHere(ctx context.Context, url string, timeout time.Duration) report.ProbeCalls {
	return probecmd.Get(ctx, url, probecmd.GetOptions{Count: 1, Timeout: timeout})
}

// getJSON GETs url from this machine and decodes the answer into v.
func getJSON(t *testing.T, ctx context.Context, url string, v any) {
	t.Helper()
	out := fromHere(ctx, url, reportTimeout)
	c := out.Calls[0]
	if !c.OK {
		t.Fatalf("GET %s: %s %s (status %d)", url, c.ErrorKind, c.Error, c.Status)
	}
	if err := json.Unmarshal(c.Body, v); err != nil {
		t.Fatalf("GET %s: decode %T: %v", url, v, err)
	}
}

// loadBalancerEntry is http://<address>:<port> of the frontend's
// LoadBalancer Service; the test fails when it has no address.
func (r *run) loadBalancerEntry(t *testing.T) string {
	t.Helper()
	svc := r.service(t, r.ctx, "frontend")
	if len(svc.Status.LoadBalancer.Ingress) == 0 || svc.Status.LoadBalancer.Ingress[0].IP == "" {
		t.Fatalf("service frontend has no LoadBalancer IP: %+v", svc.Status.LoadBalancer)
	}
	return "http://" + net.JoinHostPort(svc.Status.LoadBalancer.Ingress[0].IP, strconv.Itoa(int(svc.Spec.Ports[0].Port)))
}

// pathReport is the frontend's own path report, through the NodePort.
func (r *run) pathReport(t *testing.T) report.Report {
	t.Helper()
	var rep report.Report
	getJSON(t, r.ctx, r.entry(t)+"/api/paths", &rep)
	return rep
}

// findPath returns the path with id from a report, failing the test when
// the report has none.
func findPath(t *testing.T, rep report.Report, id string) report.Path {
	t.Helper()
	for _, p := range rep.Paths {
		if p.ID == id {
			return p
		}
	}
	var ids []string
	for _, p := range rep.Paths {
		ids = append(ids, p.ID)
	}
	t.Fatalf("the path report of %s has no path %s; it has %s", rep.Reporter, id, strings.Join(ids, ", "))
	return report.Path{}
}

// describePath is a path in one line, for failure messages.
func describePath(p report.Path) string {
	s := fmt.Sprintf("%s via %s (%s): ok=%t error_kind=%q addresses=%v", p.ID, p.Method, p.Query, p.OK, p.ErrorKind, p.Addresses)
	if p.Error != "" {
		s += " error=" + p.Error
	}
	return s
}

// describeCall is a call of the probe in one line.
func describeCall(c report.ProbeCall) string {
	if c.OK {
		who := "?"
		if c.AnsweredBy != nil {
			who = c.AnsweredBy.Pod
		}
		return fmt.Sprintf("ok from %s (status %d, %.1fms)", who, c.Status, c.LatencyMS)
	}
	return fmt.Sprintf("%s (status %d): %s", c.ErrorKind, c.Status, c.Error)
}

// probeGet runs `probe get URL args...` in p. Failures of the calls are in
// the output; a probe that cannot run fails the test.
func probeGet(t *testing.T, ctx context.Context, p *cluster.Probe, url string, args ...string) report.ProbeCalls {
	t.Helper()
	out, err := p.Get(ctx, url, args...)
	if err != nil {
		t.Fatalf("probe get %s from pod %s: %v", url, p.Pod.Name, err)
	}
	return out
}

func probeLookup(t *testing.T, ctx context.Context, p *cluster.Probe, name string) report.ProbeLookup {
	t.Helper()
	out, err := p.Lookup(ctx, name)
	if err != nil {
		t.Fatalf("probe lookup %s from pod %s: %v", name, p.Pod.Name, err)
	}
	return out
}

func probeEnviron(t *testing.T, ctx context.Context, p *cluster.Probe) map[string]string {
	t.Helper()
	env, err := p.Environ(ctx)
	if err != nil {
		t.Fatalf("probe env in pod %s: %v", p.Pod.Name, err)
	}
	return env
}

// startProbe starts a probe pod of the test's own, deleted when it ends.
func (r *run) startProbe(t *testing.T, o cluster.ProbeOptions) *cluster.Probe {
	t.Helper()
	p, err := r.env.StartProbe(r.ctx, o)
	if p != nil {
		r.undo("probe pod "+p.Pod.Name, time.Minute, p.Delete)
	}
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// pods lists a workload's running pods.
func (r *run) pods(t *testing.T, w cluster.Workload) []corev1.Pod {
	t.Helper()
	pods, err := r.env.Pods(r.ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	if len(pods) == 0 {
		t.Fatalf("%s has no running pods", w)
	}
	return pods
}

// readyEndpoints lists a Service's ready endpoints.
func (r *run) readyEndpoints(t *testing.T, service string) []cluster.Endpoint {
	t.Helper()
	eps, err := r.env.ReadyEndpoints(r.ctx, service)
	if err != nil {
		t.Fatal(err)
	}
	return eps
}

// scale scales a workload and waits until it is ready at the new size. The
// first scale of a workload in a test registers the undoing: back to the
// original size, ready again, and for the backend with DNS caught up, so
// that the next test finds the lab as it was.
func (r *run) scale(t *testing.T, w cluster.Workload, n int32) {
	t.Helper()
	r.scaleWithin(t, w, n, 3*time.Minute)
}

// scaleWithin is scale for a size that takes longer than 3 minutes to roll
// out or back, such as fifty backends.
func (r *run) scaleWithin(t *testing.T, w cluster.Workload, n int32, timeout time.Duration) {
	t.Helper()
	prev, err := r.env.Scale(r.ctx, w, n)
	if err != nil {
		t.Fatal(err)
	}
	if !r.scaled[w] {
		r.scaled[w] = true
		r.undo(fmt.Sprintf("scale of %s", w), timeout+time.Minute, func(ctx context.Context) error {
			if _, err := r.env.Scale(ctx, w, prev); err != nil {
				return err
			}
			if err := r.env.WaitWorkload(ctx, w, timeout); err != nil {
				return err
			}
			if w != cluster.Backend {
				return nil
			}
			v, err := r.awaitHeadless(ctx, headlessView.aMatches)
			if err != nil {
				return fmt.Errorf("DNS after restoring %s: %s: %w", w, v, err)
			}
			return nil
		})
	}
	if err := r.env.WaitWorkload(r.ctx, w, timeout); err != nil {
		t.Fatal(err)
	}
}

// serviceURL is http://<name>:<port><path>.
func serviceURL(host string, port int, path string) string {
	return "http://" + net.JoinHostPort(host, strconv.Itoa(port)) + path
}

// fqdn is a Service's (or a per-pod) fully qualified name.
func (r *run) fqdn(name string) string {
	return name + "." + r.env.Opts.Namespace + ".svc." + r.env.Opts.ClusterDomain
}

// spread asks the frontend to call the backend ClusterIP n times.
func (r *run) spread(t *testing.T, n int, keepAlive bool) report.Spread {
	t.Helper()
	q := url.Values{"n": {strconv.Itoa(n)}, "keepalive": {strconv.FormatBool(keepAlive)}}
	var s report.Spread
	getJSON(t, r.ctx, r.entry(t)+"/api/spread?"+q.Encode(), &s)
	return s
}

// podNames returns the names of pods, sorted.
func podNames(pods []corev1.Pod) []string {
	var names []string
	for _, p := range pods {
		names = append(names, p.Name)
	}
	slices.Sort(names)
	return names
}

// sortedKeys returns a map's keys, sorted.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
