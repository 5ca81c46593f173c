//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/podpaths/podpaths/lab/facts"
	"github.com/podpaths/podpaths/lab/kindlab"
	"github.com/podpaths/podpaths/lab/kube"
	"github.com/podpaths/podpaths/lab/localnodes"
	"github.com/podpaths/podpaths/lab/workshop"
	"github.com/podpaths/podpaths/platform/probe"
)

// TestExternalLoadBalancer proves the hand-made load balancer in front of
// the NodePorts (HAProxy, one server per node: on the local cluster's
// outside client, beside kind's nodes as a container): it spreads calls over
// every node behind it, takes a node out when that node's health check
// fails (it asks kube-proxy's /healthz, as cloud load balancers do), and
// takes it back when the check passes again. The local cluster stops the
// node's kube-proxy; on kind, whose kube-proxy is a pod that would come
// back at once, a rule in the node refuses the check's port. Either way the
// node's NodePort still forwards. A steady stream of new connections goes
// through it all along, and none may fail; how long the load balancer took
// each way is logged.
func TestExternalLoadBalancer(t *testing.T) {
	r := begin(t, 4*time.Minute)
	addr := r.env.ExternalLB
	if addr == "" {
		t.Skipf("no external load balancer of the lab's in front of this cluster's nodes: %s", r.env.NoExternalLB)
	}
	lb := &lbClient{addr: addr, prober: &probe.Prober{Client: probe.NewClient(probe.ClientOptions{Timeout: 2 * time.Second})}}
	behind := r.env.BehindExternalLB()

	t.Run("every-node-carries", func(t *testing.T) {
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
		r.nodeOutAndBack(t, lb, r.healthCheckFault(t, behind))
	})
}

// healthFault makes one node fail the load balancer's health check, and
// pass it again, while its NodePort keeps forwarding.
type healthFault struct {
	node, what  string
	fail, clear func(ctx context.Context) error
}

// healthCheckFault picks the node and the way: on the local cluster its
// other node's kube-proxy stops; on kind the last node behind the load
// balancer refuses the check's port.
func (r *run) healthCheckFault(t *testing.T, behind []string) healthFault {
	t.Helper()
	switch r.env.Kind {
	case "local":
		node, faults := r.otherNode(t), r.localFaults(t)
		return healthFault{node: node, what: "its kube-proxy stopped",
			fail:  func(ctx context.Context) error { return faults.Stop(ctx, node, "kube-proxy") },
			clear: func(ctx context.Context) error { return faults.Start(ctx, node, "kube-proxy") }}
	case "kind":
		if len(behind) < 2 {
			t.Skipf("%d node(s) behind the load balancer: none to take out while another carries", len(behind))
		}
		return kindHealthFault(behind[len(behind)-1])
	}
	t.Skipf("no way to fail a node's health check on a %s cluster", r.env.Kind)
	return healthFault{}
}

// kindHealthFault refuses the health check's port with a rule in kind's
// node container (whose name is the node's), and removes the rule again.
func kindHealthFault(node string) healthFault {
	rule := []string{"INPUT", "-p", "tcp", "--dport", strconv.Itoa(kube.KubeProxyHealthPort),
		"-m", "comment", "--comment", "podpaths-e2e", "-j", "REJECT"}
	iptables := func(ctx context.Context, op string) error {
		if _, err := kindlab.Docker(ctx, append([]string{"exec", node, "iptables", op}, rule...)...); err != nil {
			return fmt.Errorf("iptables %s in node %s: %w", op, node, err)
		}
		return nil
	}
	return healthFault{node: node, what: "its health check port refused",
		fail: func(ctx context.Context) error { return iptables(ctx, "-I") },
		// Clearing twice (the test, then its undo) is no error.
		clear: func(ctx context.Context) error {
			if iptables(ctx, "-C") != nil {
				return nil
			}
			return iptables(ctx, "-D")
		}}
}

// nodeOutAndBack fails one node's health check, waits until the load
// balancer sends no call there, clears the fault and waits until it does.
func (r *run) nodeOutAndBack(t *testing.T, lb *lbClient, f healthFault) {
	t.Helper()
	if err := f.fail(r.ctx); err != nil {
		t.Fatal(err)
	}
	r.undo("health check of "+f.node, time.Minute, f.clear)
	failed := time.Now()
	out := lb.until(t, r.ctx, func(recent []string) bool {
		return len(recent) >= 10 && !slices.Contains(recent[len(recent)-10:], f.node)
	})
	if err := f.clear(r.ctx); err != nil {
		t.Fatal(err)
	}
	cleared := time.Now()
	back := lb.until(t, r.ctx, func(recent []string) bool { return len(recent) > 0 && recent[len(recent)-1] == f.node })
	t.Logf("summary: external load balancer %s: node %s out %s after %s, back %s after that ended; %d calls, %d failed",
		lb.addr, f.node, out.Sub(failed).Round(100*time.Millisecond), f.what, back.Sub(cleared).Round(100*time.Millisecond), lb.calls, lb.failed)
	if lb.failed > 0 {
		t.Errorf("%d of %d calls through %s failed while node %s went out and came back; want none: the load balancer sends new connections only to nodes that pass its check",
			lb.failed, lb.calls, lb.addr, f.node)
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
