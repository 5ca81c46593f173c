//go:build e2e

package e2e

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/podpaths/podpaths/e2e/internal/cluster"
	"github.com/podpaths/podpaths/lab/load"
	"github.com/podpaths/podpaths/platform/probe"
	"github.com/podpaths/podpaths/platform/report"
)

// TestRollingRestartKeepAlive restarts the backend StatefulSet and then the
// frontend Deployment while load flows the way browsers, nginx and load
// generators send it: a fixed pool of persistent connections per entry and
// page, through the NodePort on every node and the LoadBalancer. Every
// request counts: none may fail, and none may need a retry because a server
// closed a kept-alive connection under it (a client that does not retry
// would have lost it). TestRollingRestartUnderTraffic does the same with a
// new connection per request.
func TestRollingRestartKeepAlive(t *testing.T) {
	r := begin(t, 2*rolloutTimeout+3*time.Minute)
	targets := r.keepAliveTargets(t)
	run := load.Start(r.ctx, targets, true, callTimeout)
	stopped := false
	defer func() {
		if !stopped {
			run.Stop()
		}
	}()
	r.awaitLoad(t, run, targets)
	for _, w := range []cluster.Workload{cluster.Backend, cluster.Frontend} {
		before := podIPs(r.pods(t, w))
		start := time.Now()
		if err := r.env.RolloutRestart(r.ctx, w); err != nil {
			t.Fatal(err)
		}
		if err := r.env.WaitWorkload(r.ctx, w, rolloutTimeout); err != nil {
			t.Fatal(err)
		}
		after := podIPs(r.pods(t, w))
		t.Logf("%s restarted in %s under keep-alive load: pod IPs %v -> %v", w, time.Since(start).Round(time.Second), before, after)
		if slices.Equal(before, after) {
			t.Errorf("%s kept its pod IPs %v: the restart replaced no pod", w, before)
		}
		r.checkSpreadOverNodes(t, w)
	}
	counts := run.Stop()
	stopped = true
	for _, tg := range targets {
		c := counts[tg.Name]
		t.Logf("%s: %d requests over %d connections, %d failed, %d retried", tg.Name, c.Requests, c.Conns, c.Failed, c.Retried)
		if c.Failed > 0 || c.Retried > 0 {
			t.Errorf("%s: %d of %d requests failed and %d needed a retry during the rolling restarts; want 0. The first ones:\n%s",
				tg.Name, c.Failed, c.Requests, c.Retried, strings.Join(c.Failures, "\n"))
		}
	}
	tot := load.Total(counts)
	t.Logf("summary: rolling restarts under keep-alive load (%d streams): %d requests over %d connections, %d failed, %d retried",
		len(targets), tot.Requests, tot.Conns, tot.Failed, tot.Retried)
}

// keepAliveTargets are the pages of the load, through every entry: the
// NodePort on each node and the LoadBalancer. The dashboard and the path
// report are paced under nginx's per-client rate limit; /my-be/ is not
// limited and carries most of the load.
func (r *run) keepAliveTargets(t *testing.T) []load.Target {
	t.Helper()
	entries := map[string]string{}
	for _, n := range r.env.SchedulableNodes() {
		entries["nodeport "+n.Name] = "http://" + cluster.NodePortAddr(n.IP, cluster.LabNodePort)
	}
	if r.lbPending == "" {
		entries["loadbalancer"] = r.loadBalancerEntry(t)
	} else {
		t.Logf("no LoadBalancer entry: %s", r.lbPending)
	}
	var targets []load.Target
	for _, name := range sortedKeys(entries) {
		base := entries[name]
		targets = append(targets,
			load.Target{Name: name + " /my-be/api/whoami", URL: base + "/my-be/api/whoami", Conns: 2, Every: 20 * time.Millisecond, Check: answeredWithSidecar},
			load.Target{Name: name + " /api/paths", URL: base + "/api/paths", Conns: 1, Every: 500 * time.Millisecond, Check: isReport},
			load.Target{Name: name + " /", URL: base + "/", Conns: 1, Every: 500 * time.Millisecond, Check: isDashboard},
		)
	}
	return targets
}

// awaitLoad waits until every target has been answered, so that the
// restarts begin under load on every stream.
func (r *run) awaitLoad(t *testing.T, run *load.Run, targets []load.Target) {
	t.Helper()
	err := cluster.Eventually(r.ctx, time.Minute, 100*time.Millisecond, func(context.Context) (string, bool) {
		counts := run.Snapshot()
		for _, tg := range targets {
			if c := counts[tg.Name]; c.Requests == 0 {
				return "no request of " + tg.Name + " has finished yet", false
			}
		}
		return "", true
	})
	if err != nil {
		t.Fatal(err)
	}
}

// answeredWithSidecar accepts a backend's /api/whoami answer whose own call
// to its sidecar worked.
func answeredWithSidecar(res probe.Result) error {
	if _, err := report.DecodeWhoami(res.Body); err != nil {
		return err
	}
	if sc, ok := report.DecodeSidecar(res.Body); !ok || !sc.OK {
		return fmt.Errorf("the backend answered, but its sidecar call failed: %s", describePath(sc))
	}
	return nil
}

func isReport(res probe.Result) error {
	_, err := report.DecodeReport(res.Body)
	return err
}

func isDashboard(res probe.Result) error {
	if !strings.Contains(string(res.Body), "<svg") {
		return errors.New("the answer is not the dashboard (no <svg>)")
	}
	return nil
}
