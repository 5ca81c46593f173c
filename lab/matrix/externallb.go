package matrix

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/podpaths/podpaths/platform/probe"
	"github.com/podpaths/podpaths/platform/report"
)

// externalLBCallsPerNode is how many calls per node go through the external
// load balancer: with round robin, each node that is in gets several.
const externalLBCallsPerNode = 4

// nodeHeader is the header in which the external load balancer names the
// node (its server) that carried a call.
const nodeHeader = "X-Podpaths-Node"

// externalLBAction calls /whoami through the external load balancer several
// times, each on a new connection, and counts which node carried each call.
// The call through the load balancer must work; each node must have
// carried some, else the load balancer has taken it out (its health check
// of that node's kube-proxy fails).
func (c *Checker) externalLBAction(t targets) action {
	p := report.Path{
		ID: report.IDOutsideExternalLB, From: "outside", To: "external load balancer", Method: report.MethodLoadBalancer,
		Expected: report.ExpectOK,
	}
	name := "external load balancer"
	if c.cfg.ExternalLB == "" {
		// One skip says it: without a load balancer there are no nodes
		// behind it.
		return fixed(name, skipped(p, cmp.Or(c.cfg.NoExternalLB, "no load balancer in front of the nodes")))
	}
	var nodes []report.Path
	for _, n := range t.nodes {
		if n.behindLB {
			nodes = append(nodes, report.Path{ID: report.ExternalLBNodeID(n.name), From: "external load balancer", To: n.name,
				Method: report.MethodNodePort, Expected: report.ExpectOK, ToNode: n.name})
		}
	}
	p.To += " " + c.cfg.ExternalLB
	p.Query = "GET http://" + c.cfg.ExternalLB + pathWhoami
	p.Addresses = []string{c.cfg.ExternalLB}
	calls := externalLBCallsPerNode * max(len(nodes), 1)
	return action{name: name, run: func(ctx context.Context) []Check {
		carried, last := c.callExternalLB(ctx, calls)
		last.FillOutcome(&p)
		if p.OK {
			if err := decodeIdentity(last.Body, &p); err != nil {
				markFailed(&p, err)
			}
		}
		checks := []Check{{Path: p, Detail: "via " + counts(carried)}}
		for _, np := range nodes {
			if carried[np.To] == 0 && p.OK {
				markFailed(&np, fmt.Errorf("the load balancer sent none of %d calls through %s: its health check of the node's kube-proxy fails, so the node is out", calls, np.To))
			} else if !p.OK {
				np.OK, np.ErrorKind, np.Error = false, p.ErrorKind, "no call through the load balancer worked"
			} else {
				np.OK = true
			}
			checks = append(checks, Check{Path: np, Detail: fmt.Sprintf("%d of %d calls", carried[np.To], calls)})
		}
		return checks
	}}
}

// callExternalLB makes n calls and counts them by the node that carried
// each. It stops at the first failure and returns that call, else the last.
func (c *Checker) callExternalLB(ctx context.Context, n int) (map[string]int, probe.Result) {
	carried := map[string]int{}
	var res probe.Result
	for range n {
		callCtx, cancel := context.WithTimeout(ctx, c.cfg.OutsideTimeout)
		res = c.prober.Get(callCtx, c.cfg.ExternalLB, pathWhoami, "")
		cancel()
		if res.Err != nil {
			return carried, res
		}
		carried[cmp.Or(res.Header.Get(nodeHeader), "unnamed")]++
	}
	return carried, res
}

// counts prints counts by name, sorted: "podpaths-a=4 podpaths-b=4".
func counts(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}
