package matrix

import (
	"context"
	"fmt"
	"strconv"

	"k8s.io/client-go/kubernetes"

	"github.com/podpaths/podpaths/platform/probe"
	"github.com/podpaths/podpaths/platform/report"
)

// The per-node actions ask a frontend on each node for its own view. The
// NodePort and the LoadBalancer pick a frontend themselves, so they cannot
// ask for one on a given node; the API server's pod proxy can. It only
// carries the question: every path in the answer is the pod's own call, from
// its node, with the node names of both ends.

// perNodeActions are a path report and a spread from a frontend on every
// node that runs one, when more than one does (on one node they would repeat
// the entry's view).
func (c *Checker) perNodeActions(t targets) []action {
	if len(t.frontends) < 2 {
		return nil
	}
	var actions []action
	for _, f := range t.frontends {
		e := podEntry{client: c.client, namespace: c.cfg.Namespace, pod: f.pod, port: f.port}
		actions = append(actions,
			c.reportAction(e, "frontend@"+f.node+" "+pathPaths, report.NodePathsID(f.node),
				"frontend "+f.pod+"@"+f.node+" "+pathPaths, pathPaths),
			c.nodeSpreadAction(e, f, t.backendNodes),
		)
	}
	return actions
}

// nodeSpreadAction asks one frontend to call the backend ClusterIP n times
// and counts the answers by node: from its own node and from others. With
// ready backends on both, kube-proxy must have sent calls to both.
func (c *Checker) nodeSpreadAction(e entry, f podOnNode, backendNodes map[string]int) action {
	q := pathSpread + "?n=" + strconv.Itoa(c.cfg.SpreadCalls) + "&keepalive=false"
	return action{name: "frontend@" + f.node + " " + pathSpread, run: func(ctx context.Context) []Check {
		p := report.Path{
			ID: report.NodeSpreadID(f.node), From: "frontend " + f.pod, To: c.cfg.BackendService,
			Method: report.MethodSpread, Query: "GET " + q, Expected: report.ExpectOK, FromNode: f.node,
		}
		body := c.call(ctx, e, q, &p)
		if body == nil {
			return []Check{{Path: p}}
		}
		s, err := report.DecodeSpread(body)
		if err != nil {
			markFailed(&p, err)
			return []Check{{Path: p}}
		}
		detail, err := judgeNodeSpread(s, f.node, backendNodes)
		if err != nil {
			markFailed(&p, err)
		}
		return []Check{{Path: p, Detail: detail}}
	}}
}

// judgeNodeSpread counts a spread's answers from the caller's node and from
// the others, e.g. "same node 7, other nodes 13 (backends: 1 here, 2 elsewhere)".
func judgeNodeSpread(s report.Spread, node string, backendNodes map[string]int) (string, error) {
	same, other := 0, 0
	for _, p := range s.Pods {
		if p.Node == node {
			same += p.Count
		} else {
			other += p.Count
		}
	}
	here, elsewhere := 0, 0
	for n, count := range backendNodes {
		if n == node {
			here += count
		} else {
			elsewhere += count
		}
	}
	detail := fmt.Sprintf("same node %d, other nodes %d (ready backends: %d here, %d elsewhere)", same, other, here, elsewhere)
	if f := s.Failed(); f > 0 {
		detail += fmt.Sprintf(", failed %d", f)
	}
	switch {
	case s.Failed() > 0:
		return detail, fmt.Errorf("%d of %d calls failed", s.Failed(), s.N)
	case here > 0 && same == 0:
		return detail, fmt.Errorf("no call of %d was answered on %s, which has %d ready backend(s)", s.N, node, here)
	case elsewhere > 0 && other == 0:
		return detail, fmt.Errorf("no call of %d crossed to another node, which have %d ready backend(s)", s.N, elsewhere)
	}
	return detail, nil
}

// podEntry reaches one pod's nginx through the API server's pod proxy
// (/api/v1/namespaces/NS/pods/http:POD:PORT/proxy/...).
type podEntry struct {
	client    kubernetes.Interface
	namespace string
	pod       string
	port      int32
}

func (e podEntry) method() report.Method { return report.MethodAPIProxy }
func (e podEntry) address() string {
	return fmt.Sprintf("pods/%s/%s:%d", e.namespace, e.pod, e.port)
}

func (e podEntry) get(ctx context.Context, pathQuery string) probe.Result {
	path, params := splitQuery(pathQuery)
	return proxyAnswer(ctx, func(ctx context.Context) ([]byte, error) {
		return e.client.CoreV1().Pods(e.namespace).ProxyGet("http", e.pod, strconv.Itoa(int(e.port)), path, params).DoRaw(ctx)
	})
}
