package matrix

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"net/url"
	"strconv"

	"github.com/podpaths/podpaths/platform/probe"
	"github.com/podpaths/podpaths/platform/report"
)

// The paths through nginx that the inside actions call. nginx sends `/` to
// the frontend in its pod and `/my-be/` to the backend Service by name.
const (
	pathWhoami   = "/whoami"
	pathPaths    = "/api/paths"
	pathSpread   = "/api/spread"
	pathMyWhoami = "/my-be/api/whoami"
	pathMyPeers  = "/my-be/api/peers"
)

// outside is an outside action together with the entry it tests, so that the
// first one that answered can carry the inside actions.
type outside struct {
	action
	entry entry
}

// outsideActions lists the calls from outside: localhost first (it works on
// every OS kind runs on), then every node, then the LoadBalancer.
func (c *Checker) outsideActions(t targets) []outside {
	var out []outside
	if c.cfg.Localhost.Address != "" {
		out = append(out, c.nodePortAction("localhost", c.cfg.Localhost.Node, c.cfg.Localhost.Address, t))
	}
	for _, n := range t.nodes {
		addr := ""
		if n.ip != "" {
			addr = net.JoinHostPort(n.ip, strconv.Itoa(int(t.nodePort)))
		}
		o := c.nodePortAction(n.name, n.name, addr, t)
		if c.cfg.NodeIPsUnreachable != "" && o.entry != nil {
			p := report.Path{ID: report.OutsideNodePortID(n.name), From: "outside", To: n.name + " " + addr,
				Method: report.MethodNodePort, Addresses: []string{addr}, ToNode: n.name}
			o = outside{action: fixed(o.name, skipped(p, c.cfg.NodeIPsUnreachable))}
		}
		out = append(out, o)
	}
	return append(out, c.loadBalancerAction(t), outside{action: c.clusterIPAction(t)}, outside{action: c.externalLBAction(t)})
}

// clusterIPAction calls the backend's ClusterIP from the outside client,
// which must fail: no machine outside the cluster has a route to the
// Service range, and no node forwards it there. It is no entry, even if it
// answered.
func (c *Checker) clusterIPAction(t targets) action {
	p := report.Path{
		ID: report.IDOutsideClusterIP, From: "outside", To: c.cfg.BackendService, Method: report.MethodStatic,
		Expected: report.ExpectFail,
	}
	name := "clusterip " + c.cfg.BackendService
	switch {
	case t.backendErr != nil:
		// Without an address there was no call that could fail as it must:
		// a failed check, not a blocked path.
		p.Expected = report.ExpectOK
		return fixed(name, broken(p, t.backendErr))
	case c.cfg.OutsideDial == nil:
		return fixed(name, skipped(p, cmp.Or(c.cfg.NoOutside, "no client outside the cluster to call it from")))
	}
	p.To += " " + t.backendAddr
	p.Query = "GET http://" + t.backendAddr + pathWhoami
	p.Addresses = []string{t.backendAddr}
	e := httpEntry{prober: &probe.Prober{Client: newHTTPClient(c.cfg.OutsideDial)}, m: report.MethodStatic, addr: t.backendAddr}
	return c.whoamiAction(name, p, e)
}

// nodePortAction calls /whoami on a NodePort. Under externalTrafficPolicy
// Local a node without a ready endpoint drops the packets, so that path is
// expected to fail there (a timeout, not a refusal).
func (c *Checker) nodePortAction(label, nodeName, addr string, t targets) outside {
	p := report.Path{
		ID: report.OutsideNodePortID(label), From: "outside", To: label, Method: report.MethodNodePort,
		Expected: report.ExpectOK, ToNode: nodeName,
	}
	if addr != "" {
		p.To = label + " " + addr
		p.Query = "GET http://" + addr + pathWhoami
		p.Addresses = []string{addr}
	}
	onNode := c.cfg.Localhost.OnNode && nodeName == c.cfg.Localhost.Node
	if t.etpLocal && nodeName != "" && !t.endpointNodes[nodeName] && !onNode {
		p.Expected = report.ExpectFail
	}
	// Under externalTrafficPolicy Local a node keeps the client's address;
	// checked where the call is an outside one and reaches the node itself
	// (not through a localhost forwarder, which is a client of its own).
	keepsClient := t.etpLocal && !onNode && label == nodeName && p.Expected != report.ExpectFail
	e := httpEntry{prober: c.prober, m: report.MethodNodePort, addr: addr}
	name := "nodeport " + label
	switch {
	case t.nodePortErr != nil:
		return outside{action: fixed(name, broken(p, t.nodePortErr))}
	case addr == "":
		return outside{action: fixed(name, skipped(p, "node "+nodeName+" has no InternalIP"))}
	}
	a := c.whoamiAction(name, p, e)
	if keepsClient {
		a = c.clientIPAction(name, p, e)
	}
	return outside{action: a, entry: e}
}

// clientIPAction is whoamiAction for a NodePort under externalTrafficPolicy
// Local: the address nginx saw must be the one this machine sent from.
func (c *Checker) clientIPAction(name string, p report.Path, e httpEntry) action {
	return action{name: name, run: func(ctx context.Context) []Check {
		ctx, cancel := context.WithTimeout(ctx, c.cfg.OutsideTimeout)
		defer cancel()
		res := e.get(ctx, pathWhoami)
		res.FillOutcome(&p)
		if !p.OK {
			return []Check{{Path: p}}
		}
		if err := decodeIdentity(res.Body, &p); err != nil {
			markFailed(&p, err)
			return []Check{{Path: p}}
		}
		if from := localIP(res); p.ClientIPSeen != from {
			p.OK, p.ErrorKind = false, report.ErrorOther
			p.Error = fmt.Sprintf("nginx saw client %s, but the call came from %s: externalTrafficPolicy Local must keep the client's address", p.ClientIPSeen, from)
		}
		return []Check{{Path: p, Detail: answeredBy(Check{Path: p}) + " saw client " + p.ClientIPSeen}}
	}}
}

func (c *Checker) loadBalancerAction(t targets) outside {
	p := report.Path{
		ID: report.IDOutsideLoadBalancer, From: "outside", To: c.cfg.LoadBalancerService, Method: report.MethodLoadBalancer,
		Expected: report.ExpectOK,
	}
	name := "loadbalancer " + c.cfg.LoadBalancerService
	switch {
	case t.lbErr != nil:
		return outside{action: fixed(name, broken(p, t.lbErr))}
	case t.lbSkip != "":
		return outside{action: fixed(name, skipped(p, t.lbSkip))}
	}
	p.To += " " + t.lbAddress
	p.Query = "GET http://" + t.lbAddress + pathWhoami
	p.Addresses = []string{t.lbAddress}
	e := httpEntry{prober: c.prober, m: report.MethodLoadBalancer, addr: t.lbAddress}
	return outside{action: c.whoamiAction(name, p, e), entry: e}
}

// whoamiAction calls /whoami through nginx; the frontend's identity says which
// pod and node answered and which client IP the hops saw.
func (c *Checker) whoamiAction(name string, p report.Path, e entry) action {
	return action{name: name, run: func(ctx context.Context) []Check {
		ctx, cancel := context.WithTimeout(ctx, c.cfg.OutsideTimeout)
		defer cancel()
		res := e.get(ctx, pathWhoami)
		res.FillOutcome(&p)
		if p.OK {
			if err := decodeIdentity(res.Body, &p); err != nil {
				markFailed(&p, err)
			}
		}
		return []Check{{Path: p}}
	}}
}

// fixed is an action whose check was decided while planning.
func fixed(name string, c Check) action {
	return action{name: name, run: func(context.Context) []Check { return []Check{c} }}
}

// pickEntry returns the first outside entry whose call worked as a working
// path (an expected failure is no way in), else the API-server proxy when
// allowed, else nil.
func (c *Checker) pickEntry(out []outside, results []ActionResult, t targets) entry {
	for i, o := range out {
		if o.entry == nil || len(results[i].Checks) == 0 {
			continue
		}
		p := results[i].Checks[0].Path
		if p.OK && p.Expected != report.ExpectFail {
			return o.entry
		}
	}
	if c.cfg.APIProxy && t.proxyPort != 0 {
		return proxyEntry{client: c.client, namespace: c.cfg.Namespace, service: c.cfg.LoadBalancerService, port: t.proxyPort}
	}
	return nil
}

// insideActions asks the pods for their own view, through the entry.
func (c *Checker) insideActions(e entry, t targets) []action {
	q := url.Values{}
	q.Set("n", strconv.Itoa(c.cfg.SpreadCalls))
	q.Set("keepalive", "false")
	spread := pathSpread + "?" + q.Encode()
	actions := []action{
		c.reportAction(e, "frontend /api/paths", report.IDOutsidePaths, "frontend "+pathPaths, pathPaths),
		c.spreadAction(e, spread, t.readyBackends),
		c.reportAction(e, "backend /my-be/api/peers", report.IDOutsidePeers, "backend "+pathMyPeers, pathMyPeers),
		c.myWhoamiAction(e),
	}
	if c.cfg.PerNode {
		actions = append(actions, c.perNodeActions(t)...)
	}
	return actions
}

// insidePath is the check of one inside call: from outside, through the entry.
func insidePath(e entry, id, to, pathQuery string) report.Path {
	p := report.Path{ID: id, From: "outside", To: to, Query: "GET " + pathQuery, Expected: report.ExpectOK}
	if e != nil {
		p.Method = e.method()
		p.Addresses = []string{e.address()}
	}
	return p
}

// noEntry is why the inside actions cannot run.
const noEntry = "no entry into the cluster answered, so the pods' own view cannot be asked"

// call runs one inside GET with the inside timeout and fills p; it returns the
// body when the call worked. A busy answer (nginx limits reports and spreads
// per client, and every check comes from one address) is asked again after
// the wait it names.
func (c *Checker) call(ctx context.Context, e entry, pathQuery string, p *report.Path) []byte {
	res := probe.RetryBusy(ctx, func(ctx context.Context) probe.Result {
		ctx, cancel := context.WithTimeout(ctx, c.cfg.InsideTimeout)
		defer cancel()
		return e.get(ctx, pathQuery)
	})
	res.FillOutcome(p)
	if !p.OK {
		return nil
	}
	return res.Body
}

// reportAction fetches a path report and counts every path in it, besides the
// call itself.
func (c *Checker) reportAction(e entry, name, id, to, pathQuery string) action {
	return action{name: name, run: func(ctx context.Context) []Check {
		p := insidePath(e, id, to, pathQuery)
		if e == nil {
			return []Check{skipped(p, noEntry)}
		}
		body := c.call(ctx, e, pathQuery, &p)
		if body == nil {
			return []Check{{Path: p}}
		}
		rep, err := report.DecodeReport(body)
		if err != nil {
			markFailed(&p, err)
			return []Check{{Path: p}}
		}
		p.AnsweredBy = &report.Pod{Pod: rep.Reporter}
		checks := []Check{{Path: p}}
		for _, rp := range rep.Paths {
			checks = append(checks, Check{Path: normalize(rp)})
		}
		return checks
	}}
}

// spreadAction asks the frontend to call the backend ClusterIP n times, each
// on a new connection. kube-proxy balances per connection, so with more than
// one ready replica the answers must come from more than one pod. (e2e asserts
// the stronger "every replica"; here a run of bad luck must not fail a check.)
func (c *Checker) spreadAction(e entry, pathQuery string, readyBackends int) action {
	return action{name: "frontend /api/spread", run: func(ctx context.Context) []Check {
		p := report.Path{
			ID: report.IDSpread, From: "frontend", To: c.cfg.BackendService, Method: report.MethodSpread,
			Query: "GET " + pathQuery, Expected: report.ExpectOK,
		}
		if e == nil {
			return []Check{skipped(p, noEntry)}
		}
		body := c.call(ctx, e, pathQuery, &p)
		if body == nil {
			return []Check{{Path: p}}
		}
		s, err := report.DecodeSpread(body)
		if err != nil {
			markFailed(&p, err)
			return []Check{{Path: p}}
		}
		detail, err := judgeSpread(s, readyBackends)
		if err != nil {
			markFailed(&p, err)
		}
		return []Check{{Path: p, Detail: detail}}
	}}
}

// myWhoamiAction calls the backend through nginx's /my-be/, which nginx
// resolves by CoreDNS name at request time; the backend's answer may carry
// its sidecar call.
func (c *Checker) myWhoamiAction(e entry) action {
	return action{name: "backend /my-be/api/whoami", run: func(ctx context.Context) []Check {
		p := insidePath(e, report.IDOutsideWhoami, "backend "+pathMyWhoami, pathMyWhoami)
		if e == nil {
			return []Check{skipped(p, noEntry)}
		}
		body := c.call(ctx, e, pathMyWhoami, &p)
		if body == nil {
			return []Check{{Path: p}}
		}
		if err := decodeIdentity(body, &p); err != nil {
			markFailed(&p, err)
			return []Check{{Path: p}}
		}
		checks := []Check{{Path: p}}
		if sc, ok := report.DecodeSidecar(body); ok {
			checks = append(checks, Check{Path: normalize(sc)})
		}
		return checks
	}}
}

// normalize fills what a pod's path may leave empty: no expectation means the
// path must work.
func normalize(p report.Path) report.Path {
	if p.Expected == "" {
		p.Expected = report.ExpectOK
	}
	return p
}

// splitQuery splits "/a?b=c" into the path and its parameters.
func splitQuery(pathQuery string) (string, map[string]string) {
	u, err := url.Parse(pathQuery)
	if err != nil {
		return pathQuery, nil
	}
	params := map[string]string{}
	for k, v := range u.Query() {
		params[k] = v[0]
	}
	return u.Path, params
}

// judgeSpread checks a spread and describes it, e.g. "backend-0=7 backend-1=13 (2 of 2 ready)".
func judgeSpread(s report.Spread, readyBackends int) (string, error) {
	detail := histogram(s)
	if readyBackends >= 0 {
		detail += fmt.Sprintf(" (%d ready)", readyBackends)
	}
	want := 1
	if readyBackends > 1 {
		want = 2
	}
	switch {
	case s.Failed() > 0:
		return detail, fmt.Errorf("%d of %d calls failed", s.Failed(), s.N)
	case len(s.Pods) < want:
		return detail, fmt.Errorf("%d calls without keep-alive all reached %d pod(s) while %d are ready", s.N, len(s.Pods), readyBackends)
	}
	return detail, nil
}
