//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/podpaths/podpaths/e2e/internal/cluster"
	"github.com/podpaths/podpaths/platform/report"
)

// trafficInterval paces each stream of steady traffic: two streams at 40
// requests a second, enough to hit every moment of a rollout and light on
// two cores.
const trafficInterval = 25 * time.Millisecond

// traffic is steady load through the NodePort: one stream to nginx -> the
// frontend (/whoami), one to nginx -> the backend -> its sidecar
// (/my-be/api/whoami). Every request opens a new connection, so each one is
// routed afresh by kube-proxy, as a new client's would be.
type traffic struct {
	mu       sync.Mutex
	total    int
	failures []string
	// podIPs are the pod IPs that answered, per stream: a rollout replaces
	// every pod, so both old and new IPs must show up.
	podIPs map[string]map[string]bool
}

func (tr *traffic) record(stream string, c report.ProbeCall, err error) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.total++
	if err != nil {
		tr.failures = append(tr.failures, fmt.Sprintf("%s %s: %v", time.Now().Format(time.TimeOnly), stream, err))
		return
	}
	if c.AnsweredBy != nil {
		tr.podIPs[stream][c.AnsweredBy.PodIP] = true
	}
}

// run sends requests until ctx ends.
func (tr *traffic) run(ctx context.Context, entry string) {
	streams := map[string]func(report.ProbeCall) error{
		"/whoami":           okAnswer,
		"/my-be/api/whoami": okWithSidecar,
	}
	tr.mu.Lock()
	for path := range streams {
		tr.podIPs[path] = map[string]bool{}
	}
	tr.mu.Unlock()
	var wg sync.WaitGroup
	for path, check := range streams {
		wg.Go(func() {
			tick := time.NewTicker(trafficInterval)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
				// Each call gets its own deadline, not ctx's: a request in
				// flight when the traffic stops must finish and count.
				callCtx, cancel := context.WithTimeout(context.Background(), callTimeout)
				c := fromHere(callCtx, entry+path, callTimeout).Calls[0]
				cancel()
				tr.record(path, c, check(c))
			}
		})
	}
	wg.Wait()
}

// okAnswer accepts a 2xx whoami answer.
func okAnswer(c report.ProbeCall) error {
	if !c.OK || c.AnsweredBy == nil {
		return fmt.Errorf("%s", describeCall(c))
	}
	return nil
}

// okWithSidecar also requires the backend's own call to its sidecar to have
// worked: a backend answering while its sidecar is already gone is a failure
// too.
func okWithSidecar(c report.ProbeCall) error {
	if err := okAnswer(c); err != nil {
		return err
	}
	sc, ok := report.DecodeSidecar(c.Body)
	if !ok || !sc.OK {
		return fmt.Errorf("backend %s answered, but its sidecar call failed: %s", c.AnsweredBy.Pod, describePath(sc))
	}
	return nil
}

// TestRollingRestartUnderTraffic restarts the backend StatefulSet and then
// the frontend Deployment while steady traffic flows through the NodePort:
// readiness, the drain delay, nginx's preStop pause and the rollout
// strategies must together lose no request.
func TestRollingRestartUnderTraffic(t *testing.T) {
	r := begin(t, 2*rolloutTimeout+2*time.Minute)
	entry := r.entry(t)
	total := 0
	for _, w := range []cluster.Workload{cluster.Backend, cluster.Frontend} {
		t.Run(strings.ToLower(w.Kind), func(t *testing.T) {
			total += r.restartUnderTraffic(t, w, entry)
		})
	}
	if t.Failed() {
		t.Logf("summary: rolling restart under traffic through the NodePort %s: %d requests, FAILED (see above)", entry, total)
		return
	}
	t.Logf("summary: rolling restart under traffic through the NodePort %s: %d requests, 0 failed", entry, total)
}

// restartUnderTraffic restarts w while traffic flows, and returns how many
// requests were sent. The traffic starts before the restart and runs until
// every old pod has answered and, after the rollout, every new one, so it
// spans the whole rollout.
func (r *run) restartUnderTraffic(t *testing.T, w cluster.Workload, entry string) int {
	t.Helper()
	stream := "/whoami"
	if w == cluster.Backend {
		stream = "/my-be/api/whoami"
	}
	before := podIPs(r.pods(t, w))
	tr := &traffic{podIPs: map[string]map[string]bool{}}
	ctx, stop := context.WithCancel(r.ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tr.run(ctx, entry)
	}()
	defer func() {
		stop()
		<-done
	}()

	if err := tr.awaitAnswers(r.ctx, stream, before); err != nil {
		t.Fatalf("before the restart of %s: %v", w, err)
	}
	start := time.Now()
	if err := r.env.RolloutRestart(r.ctx, w); err != nil {
		t.Fatal(err)
	}
	if err := r.env.WaitWorkload(r.ctx, w, rolloutTimeout); err != nil {
		t.Fatal(err)
	}
	after := podIPs(r.pods(t, w))
	if err := tr.awaitAnswers(r.ctx, stream, after); err != nil {
		t.Errorf("after the restart of %s: %v", w, err)
	}
	stop()
	<-done
	total, failures := tr.result()
	t.Logf("%s restarted in %s under %d requests: pod IPs %v -> %v", w, time.Since(start).Round(time.Second), total, before, after)
	if len(failures) > 0 {
		t.Errorf("%d of %d requests through %s failed during the rolling restart of %s; want 0. The first ones:\n%s",
			len(failures), total, entry, w, strings.Join(failures[:min(len(failures), 20)], "\n"))
	}
	if slices.Equal(before, after) {
		t.Errorf("%s kept its pod IPs %v: the restart replaced no pod", w, before)
	}
	r.checkSpreadOverNodes(t, w)
	return total
}

// checkSpreadOverNodes fails when w's pods run on fewer nodes than they
// could: after a rollout, the topology spread (matchLabelKeys:
// pod-template-hash, so that the old ReplicaSet's pods do not count) must
// still put a frontend on each node, or the paths from the other node are
// gone.
func (r *run) checkSpreadOverNodes(t *testing.T, w cluster.Workload) {
	t.Helper()
	pods := r.pods(t, w)
	nodes := map[string][]string{}
	for _, p := range pods {
		nodes[p.Spec.NodeName] = append(nodes[p.Spec.NodeName], p.Name)
	}
	if want := min(len(pods), len(r.env.SchedulableNodes())); len(nodes) < want {
		t.Errorf("after the rollout of %s its %d pods run on %d node(s), %v; want them spread over %d", w, len(pods), len(nodes), nodes, want)
	}
}

// awaitAnswers waits until every pod IP in ips has answered a request of
// stream.
func (tr *traffic) awaitAnswers(ctx context.Context, stream string, ips []string) error {
	return cluster.Eventually(ctx, time.Minute, 100*time.Millisecond, func(context.Context) (string, bool) {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		var missing []string
		for _, ip := range ips {
			if !tr.podIPs[stream][ip] {
				missing = append(missing, ip)
			}
		}
		return fmt.Sprintf("no answer to %s from pod IPs %v yet (%d requests so far)", stream, missing, tr.total), len(missing) == 0
	})
}

func (tr *traffic) result() (int, []string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.total, slices.Clone(tr.failures)
}

func podIPs(pods []corev1.Pod) []string {
	var ips []string
	for _, p := range pods {
		ips = append(ips, p.Status.PodIP)
	}
	slices.Sort(ips)
	return ips
}
