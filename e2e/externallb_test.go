//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/podpaths/podpaths/lab/facts"
	"github.com/podpaths/podpaths/lab/localnodes"
	"github.com/podpaths/podpaths/lab/workshop"
	"github.com/podpaths/podpaths/platform/probe"
)

// TestExternalLoadBalancer proves the hand-made load balancer in front of
// the NodePorts (HAProxy, one server per node: on the local cluster's
// outside client, beside kind's nodes as a container): it spreads calls over
// every node. On the local cluster it also takes a node out when that node's
// kube-proxy stops (its health check asks kube-proxy's /healthz, as cloud
// load balancers do), and takes it back when kube-proxy runs again. A steady
// stream of new connections goes through it all along, and none may fail;
// how long the load balancer took each way is logged.
func TestExternalLoadBalancer(t *testing.T) {
	r := begin(t, 4*time.Minute)
	addr := r.env.ExternalLB
	if addr == "" {
		t.Skipf("no external load balancer of the lab's in front of this cluster's nodes: %s", r.env.NoExternalLB)
	}
	lb := &lbClient{addr: addr, prober: &probe.Prober{Client: probe.NewClient(probe.ClientOptions{Timeout: 2 * time.Second})}}

	t.Run("every-node-carries", func(t *testing.T) {
		var behind []string
		for _, n := range r.env.Nodes {
			if n.BehindExternalLB {
				behind = append(behind, n.Name)
			}
		}
		carried := map[string]int{}
		for range 4 * len(behind) {
			carried[lb.call(t, r.ctx)]++
		}
		for _, n := range r.env.Nodes {
			if got, want := carried[n.Name] > 0, slices.Contains(behind, n.Name); got != want {
				t.Errorf("calls through %s by node: %v; want exactly the nodes behind it to carry some: %v", addr, carried, behind)
			}
		}
	})
	t.Run("node-out-and-back", func(t *testing.T) {
		if r.env.Kind != "local" {
			t.Skipf("it stops a node's kube-proxy, a process of this machine on the local cluster only; this is a %s cluster", r.env.Kind)
		}
		r.nodeOutAndBack(t, lb)
	})
}

// nodeOutAndBack stops kube-proxy on the node that is not this machine,
// waits until the load balancer sends no call there, starts it again and
// waits until it does.
func (r *run) nodeOutAndBack(t *testing.T, lb *lbClient) {
	t.Helper()
	node := r.otherNode(t)
	faults := r.localFaults(t)
	if err := faults.Stop(r.ctx, node, "kube-proxy"); err != nil {
		t.Fatal(err)
	}
	r.undo("kube-proxy on "+node, time.Minute, func(ctx context.Context) error { return faults.Start(ctx, node, "kube-proxy") })
	stopped := time.Now()
	out := lb.until(t, r.ctx, func(recent []string) bool {
		return len(recent) >= 10 && !slices.Contains(recent[len(recent)-10:], node)
	})
	if err := faults.Start(r.ctx, node, "kube-proxy"); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	back := lb.until(t, r.ctx, func(recent []string) bool { return len(recent) > 0 && recent[len(recent)-1] == node })
	t.Logf("summary: external load balancer %s: node %s out %s after its kube-proxy stopped, back %s after it started; %d calls, %d failed",
		lb.addr, node, out.Sub(stopped).Round(100*time.Millisecond), back.Sub(started).Round(100*time.Millisecond), lb.calls, lb.failed)
	if lb.failed > 0 {
		t.Errorf("%d of %d calls through %s failed while node %s went out and came back; want none: the load balancer sends new connections only to nodes that pass its check",
			lb.failed, lb.calls, lb.addr, node)
	}
}

// lbClient calls /whoami through the external load balancer, each call on a
// new connection, and counts them.
type lbClient struct {
	addr          string
	prober        *probe.Prober
	calls, failed int
}

// call returns the node that carried one call, or "" when it failed.
func (c *lbClient) call(t *testing.T, ctx context.Context) string {
	t.Helper()
	c.calls++
	res := c.prober.Get(ctx, c.addr, "/whoami", "")
	if res.Err != nil {
		c.failed++
		t.Logf("call %d through %s: %v", c.calls, c.addr, res.Err)
		return ""
	}
	return res.Header.Get("X-Podpaths-Node")
}

// until calls every 100 ms until done holds for the nodes that carried the
// calls so far, and returns when it did; it fails the test after a minute.
func (c *lbClient) until(t *testing.T, ctx context.Context, done func(recent []string) bool) time.Time {
	t.Helper()
	var recent []string
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(time.Minute)
	for {
		recent = append(recent, c.call(t, ctx))
		if done(recent) {
			return time.Now()
		}
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-deadline:
			t.Fatalf("a minute of calls through %s, the last carried by %v: the load balancer never got there", c.addr, recent[max(0, len(recent)-10):])
		case <-tick.C:
		}
	}
}

// otherNode is a node of the local cluster that is not this machine.
func (r *run) otherNode(t *testing.T) string {
	t.Helper()
	for name := range r.env.NodeNetns {
		return name
	}
	t.Skip("the cluster has one node: no other node to take out")
	return ""
}

// localFaults stops and starts the local cluster's node daemons.
func (r *run) localFaults(t *testing.T) workshop.NodeFaults {
	t.Helper()
	root, err := filepath.Abs(filepath.Join(r.env.Opts.DeployDir, ".."))
	if err != nil {
		t.Fatal(err)
	}
	f, err := facts.Read(r.env.Opts.FactsFile)
	if err != nil {
		t.Fatal(fmt.Errorf("the local cluster's facts: %w", err))
	}
	return localnodes.Faults(root, f.Name, slog.New(slog.NewTextHandler(t.Output(), nil)))
}
