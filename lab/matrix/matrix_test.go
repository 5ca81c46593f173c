package matrix

import (
	"net/http"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/podpaths/podpaths/platform/report"
)

// want is the expected outcome and error kind of one check, by path id.
type want struct {
	outcome report.Outcome
	kind    report.ErrorKind
}

func TestRun(t *testing.T) {
	t.Parallel()
	pass := want{outcome: report.OutcomePass}
	tests := []struct {
		name      string
		setup     func(f *fixture)
		checks    map[string]want
		ok        int
		failed    int
		skipped   int
		passed    bool
		entry     string // prefix of Result.Entry
		reasonHas string // a skip reason that must appear in the summary
	}{
		{
			name: "healthy lab",
			checks: map[string]want{
				report.OutsideNodePortID("localhost"):      pass,
				report.OutsideNodePortID(cpNode):           pass,
				report.OutsideNodePortID(workerNode):       pass,
				report.OutsideNodePortID(worker2):          pass,
				report.IDOutsideLoadBalancer:               pass,
				report.IDOutsidePaths:                      pass,
				report.IDNginxFrontend:                     pass,
				report.FrontendBackendID(report.MethodEnv): {report.OutcomeSkip, report.ErrorUnconfigured},
				report.FrontendBackendID(report.MethodDNS): pass,
				"frontend-sidecar-podip":                   {report.OutcomePass, report.ErrorRefused},
				report.IDSpread:                            pass,
				report.IDOutsidePeers:                      pass,
				report.SiblingID("backend-1", "backend-0"): pass,
				report.SiblingID("backend-1", "backend-2"): pass,
				report.IDOutsideWhoami:                     pass,
				report.IDSidecar:                           pass,
				report.IDOutsideExternalLB:                 pass,
				report.ExternalLBNodeID(worker2):           pass,
			},
			ok: 20, skipped: 1, passed: true, entry: "nodeport 127.0.0.1:", reasonHas: "frontend-backend-env: BACKEND_SERVICE_HOST not set",
		},
		{
			name: "LoadBalancer pending is skipped with the reason",
			setup: func(f *fixture) {
				f.replace(service("frontend", corev1.ServiceTypeLoadBalancer, 80, 31234, ""))
			},
			checks: map[string]want{report.IDOutsideLoadBalancer: {report.OutcomeSkip, report.ErrorUnconfigured}},
			ok:     19, skipped: 2, passed: true,
			reasonHas: "outside-loadbalancer: service frontend has no LoadBalancer ingress address yet",
		},
		{
			name: "a node the external load balancer took out fails",
			setup: func(f *fixture) {
				f.routes[externalLB] = startExternalLB(f.t, []string{cpNode, workerNode}, f.front)
			},
			checks: map[string]want{
				report.IDOutsideExternalLB:          pass,
				report.ExternalLBNodeID(workerNode): pass,
				report.ExternalLBNodeID(worker2):    {report.OutcomeFail, report.ErrorOther},
			},
			ok: 19, failed: 1, skipped: 1,
		},
		{
			name: "a node labelled out of external load balancers has no row (kubeadm's control plane)",
			setup: func(f *fixture) {
				cp := nodeObject(cpNode)
				cp.Labels = map[string]string{corev1.LabelNodeExcludeBalancers: ""}
				f.replace(cp)
				f.routes[externalLB] = startExternalLB(f.t, []string{workerNode, worker2}, f.front)
			},
			checks: map[string]want{
				report.IDOutsideExternalLB:          pass,
				report.ExternalLBNodeID(workerNode): pass,
				report.ExternalLBNodeID(worker2):    pass,
			},
			ok: 19, skipped: 1, passed: true,
		},
		{
			name:   "an external load balancer that refuses fails every row",
			setup:  func(f *fixture) { f.refuse(externalLB) },
			checks: map[string]want{report.IDOutsideExternalLB: {report.OutcomeFail, report.ErrorRefused}, report.ExternalLBNodeID(cpNode): {report.OutcomeFail, report.ErrorRefused}},
			ok:     16, failed: 4, skipped: 1,
		},
		{
			name:   "without an external load balancer its rows are skipped with the reason",
			setup:  func(f *fixture) { f.cfg.ExternalLB, f.cfg.NoExternalLB = "", "kind: none in front of the nodes" },
			checks: map[string]want{report.IDOutsideExternalLB: {report.OutcomeSkip, report.ErrorUnconfigured}},
			ok:     16, skipped: 2, passed: true,
			reasonHas: "outside-external-lb: kind: none in front of the nodes",
		},
		{
			name:   "the backend's ClusterIP is not reachable from outside, as it must not be",
			checks: map[string]want{report.IDOutsideClusterIP: {report.OutcomePass, report.ErrorOther}},
			ok:     20, skipped: 1, passed: true,
		},
		{
			name:   "a ClusterIP that answers from outside fails",
			setup:  func(f *fixture) { f.outside[backendIP+":8080"] = f.server.Listener.Addr().String() },
			checks: map[string]want{report.IDOutsideClusterIP: {report.OutcomeFail, ""}},
			ok:     19, failed: 1, skipped: 1,
		},
		{
			name:   "without an outside client the ClusterIP check is skipped with the reason",
			setup:  func(f *fixture) { f.cfg.NoOutside = "kind: no client outside the cluster but this machine" },
			checks: map[string]want{report.IDOutsideClusterIP: {report.OutcomeSkip, report.ErrorUnconfigured}},
			ok:     19, skipped: 2, passed: true,
			reasonHas: "outside-clusterip: kind: no client outside the cluster but this machine",
		},
		{
			name: "without a backend Service the ClusterIP check fails: there was nothing to call",
			setup: func(f *fixture) {
				f.replace(service("backend", corev1.ServiceTypeClusterIP, 8080, 0, ""))
			},
			checks: map[string]want{report.IDOutsideClusterIP: {report.OutcomeFail, report.ErrorOther}},
			ok:     19, failed: 1, skipped: 1,
		},
		{
			name:   "a refusing node fails as refused",
			setup:  func(f *fixture) { f.refuse(nodeAddr(workerNode)) },
			checks: map[string]want{report.OutsideNodePortID(workerNode): {report.OutcomeFail, report.ErrorRefused}},
			ok:     19, failed: 1, skipped: 1,
		},
		{
			name:   "a hanging node fails as timeout",
			setup:  func(f *fixture) { f.hang(nodeAddr(worker2)) },
			checks: map[string]want{report.OutsideNodePortID(worker2): {report.OutcomeFail, report.ErrorTimeout}},
			ok:     19, failed: 1, skipped: 1,
		},
		{
			name: "externalTrafficPolicy Local: nodes without an endpoint must drop",
			setup: func(f *fixture) {
				svc := service("frontend-nodeport", corev1.ServiceTypeNodePort, 80, 30080, "")
				svc.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
				f.replace(svc)
				f.replace(endpointSlice("frontend-nodeport", map[string]string{"10.244.1.5": workerNode}))
				// The node keeps the client's address: this test's loopback.
				f.front.set(pathWhoami, jsonHandler(identitySeeing("127.0.0.1")))
				f.hang(f.cfg.Localhost.Address)
				f.hang(nodeAddr(cpNode))
				f.hang(nodeAddr(worker2))
			},
			checks: map[string]want{
				report.OutsideNodePortID("localhost"): {report.OutcomePass, report.ErrorTimeout},
				report.OutsideNodePortID(cpNode):      {report.OutcomePass, report.ErrorTimeout},
				report.OutsideNodePortID(workerNode):  pass,
				report.OutsideNodePortID(worker2):     {report.OutcomePass, report.ErrorTimeout},
				report.IDOutsidePaths:                 pass,
			},
			ok: 20, skipped: 1, passed: true, entry: "nodeport " + nodeAddr(workerNode),
		},
		{
			name: "externalTrafficPolicy Local: a node that hides the client's address fails",
			setup: func(f *fixture) {
				svc := service("frontend-nodeport", corev1.ServiceTypeNodePort, 80, 30080, "")
				svc.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
				f.replace(svc)
				f.replace(endpointSlice("frontend-nodeport", map[string]string{"10.244.1.5": workerNode}))
				f.hang(f.cfg.Localhost.Address)
				f.hang(nodeAddr(cpNode))
				f.hang(nodeAddr(worker2))
			},
			checks: map[string]want{report.OutsideNodePortID(workerNode): {report.OutcomeFail, report.ErrorOther}},
			ok:     19, failed: 1, skipped: 1, entry: "loadbalancer",
		},
		{
			name: "externalTrafficPolicy Local: this machine as the node reaches any endpoint",
			setup: func(f *fixture) {
				svc := service("frontend-nodeport", corev1.ServiceTypeNodePort, 80, 30080, "")
				svc.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
				f.replace(svc)
				f.replace(endpointSlice("frontend-nodeport", map[string]string{"10.244.1.5": workerNode}))
				f.front.set(pathWhoami, jsonHandler(identitySeeing("127.0.0.1")))
				f.cfg.Localhost.OnNode = true
				f.hang(nodeAddr(worker2))
			},
			checks: map[string]want{
				report.OutsideNodePortID("localhost"): pass,
				report.OutsideNodePortID(cpNode):      pass,
				report.OutsideNodePortID(worker2):     {report.OutcomePass, report.ErrorTimeout},
			},
			ok: 20, skipped: 1, passed: true, entry: "nodeport 127.0.0.1",
		},
		{
			name: "externalTrafficPolicy Local: a node without an endpoint that answers fails",
			setup: func(f *fixture) {
				svc := service("frontend-nodeport", corev1.ServiceTypeNodePort, 80, 30080, "")
				svc.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
				f.replace(svc)
				f.front.set(pathWhoami, jsonHandler(identitySeeing("127.0.0.1")))
			},
			checks: map[string]want{report.OutsideNodePortID(cpNode): {report.OutcomeFail, report.ErrorNone}},
			ok:     18, failed: 2, skipped: 1, // control plane and localhost (which reaches it) answered
		},
		{
			name: "node IPs unreachable from this machine are skipped, localhost carries on",
			setup: func(f *fixture) {
				f.cfg.NodeIPsUnreachable = "node IPs are inside Docker Desktop's VM"
				for n := range nodeIPs {
					delete(f.routes, nodeAddr(n))
				}
			},
			checks: map[string]want{
				report.OutsideNodePortID(cpNode):      {report.OutcomeSkip, report.ErrorUnconfigured},
				report.OutsideNodePortID(worker2):     {report.OutcomeSkip, report.ErrorUnconfigured},
				report.OutsideNodePortID("localhost"): pass,
				report.IDOutsidePaths:                 pass,
			},
			ok: 17, skipped: 4, passed: true, entry: "nodeport 127.0.0.1:",
			reasonHas: "outside-nodeport-podpaths-worker: node IPs are inside Docker Desktop's VM",
		},
		{
			name: "pod paths that fail their expectation fail the run",
			setup: func(f *fixture) {
				rep := frontendReport()
				rep.Paths[2].OK, rep.Paths[2].ErrorKind, rep.Paths[2].Error = false, report.ErrorDNS, "no such host"
				rep.Paths[3].OK, rep.Paths[3].ErrorKind = true, report.ErrorNone
				f.front.set(pathPaths, jsonHandler(rep))
			},
			checks: map[string]want{
				report.FrontendBackendID(report.MethodDNS): {report.OutcomeFail, report.ErrorDNS},
				"frontend-sidecar-podip":                   {report.OutcomeFail, report.ErrorNone},
				report.FrontendBackendID(report.MethodEnv): {report.OutcomeSkip, report.ErrorUnconfigured},
			},
			ok: 18, failed: 2, skipped: 1,
		},
		{
			name: "no outside entry: the API-server proxy carries the inside actions",
			setup: func(f *fixture) {
				f.cfg.APIProxy = true
				f.proxy = f.front
				f.replace(service("frontend", corev1.ServiceTypeLoadBalancer, 80, 31234, ""))
				f.refuse(f.cfg.Localhost.Address)
				for n := range nodeIPs {
					f.refuse(nodeAddr(n))
				}
			},
			checks: map[string]want{
				report.OutsideNodePortID(cpNode): {report.OutcomeFail, report.ErrorRefused},
				report.IDOutsidePaths:            pass,
				report.IDSpread:                  pass,
				report.IDSidecar:                 pass,
			},
			ok: 15, failed: 4, skipped: 2, entry: "apiserver-proxy services/podpaths/frontend:80",
		},
		{
			name: "no entry and no proxy: the inside actions are skipped",
			setup: func(f *fixture) {
				f.removeService("frontend")
				for n := range nodeIPs {
					f.refuse(nodeAddr(n))
				}
				f.refuse(f.cfg.Localhost.Address)
			},
			checks: map[string]want{
				report.IDOutsideLoadBalancer: {report.OutcomeFail, report.ErrorOther},
				report.IDOutsidePaths:        {report.OutcomeSkip, report.ErrorUnconfigured},
				report.IDSpread:              {report.OutcomeSkip, report.ErrorUnconfigured},
			},
			ok: 5, failed: 5, skipped: 4,
		},
		{
			name: "a missing NodePort Service fails the NodePort checks",
			setup: func(f *fixture) {
				f.removeService("frontend-nodeport")
			},
			checks: map[string]want{
				report.OutsideNodePortID("localhost"): {report.OutcomeFail, report.ErrorOther},
				report.OutsideNodePortID(worker2):     {report.OutcomeFail, report.ErrorOther},
				report.IDOutsidePaths:                 pass,
			},
			ok: 16, failed: 4, skipped: 1, entry: "loadbalancer " + lbAddr,
		},
		{
			name: "a spread that stays on one pod fails",
			setup: func(f *fixture) {
				f.front.set(pathSpread, spreadHandler(map[string]int{"backend-0": 20}, 0))
			},
			checks: map[string]want{report.IDSpread: {report.OutcomeFail, report.ErrorOther}},
			ok:     19, failed: 1, skipped: 1,
		},
		{
			name: "a busy spread is asked again after the wait it names",
			setup: func(f *fixture) {
				f.front.set(pathSpread, busyOnce(spreadHandler(map[string]int{"backend-0": 7, "backend-1": 13}, 0)))
			},
			checks: map[string]want{report.IDSpread: pass},
			ok:     20, skipped: 1, passed: true,
		},
		{
			name: "a spread that stays busy fails with http",
			setup: func(f *fixture) {
				f.front.set(pathSpread, func(w http.ResponseWriter, _ *http.Request) {
					w.Header().Set("Retry-After", "0")
					http.Error(w, `{"error":"busy"}`, http.StatusTooManyRequests)
				})
			},
			checks: map[string]want{report.IDSpread: {report.OutcomeFail, report.ErrorHTTP}},
			ok:     19, failed: 1, skipped: 1,
		},
		{
			name: "a spread with failed calls fails",
			setup: func(f *fixture) {
				f.front.set(pathSpread, spreadHandler(map[string]int{"backend-0": 9, "backend-1": 9}, 2))
			},
			checks: map[string]want{report.IDSpread: {report.OutcomeFail, report.ErrorOther}},
			ok:     19, failed: 1, skipped: 1,
		},
		{
			name: "an unreadable path report fails the call",
			setup: func(f *fixture) {
				f.front.set(pathPaths, rawHandler(http.StatusOK, "<html>not json</html>"))
			},
			checks: map[string]want{report.IDOutsidePaths: {report.OutcomeFail, report.ErrorOther}},
			ok:     16, failed: 1, // the four report paths are gone
		},
		{
			name: "nginx answering 502 for /my-be/ fails as http",
			setup: func(f *fixture) {
				f.front.set(pathMyWhoami, rawHandler(http.StatusBadGateway, "bad gateway"))
			},
			checks: map[string]want{report.IDOutsideWhoami: {report.OutcomeFail, report.ErrorHTTP}},
			ok:     18, failed: 1, skipped: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			if tt.setup != nil {
				tt.setup(f)
			}
			res := f.run()
			got := map[string]Check{}
			for _, c := range res.Checks() {
				got[c.ID] = c
			}
			for id, w := range tt.checks {
				c, ok := got[id]
				if !ok {
					t.Errorf("check %s missing; got %v", id, ids(res))
					continue
				}
				if c.Outcome() != w.outcome || c.ErrorKind != w.kind {
					t.Errorf("check %s: got %s/%q, want %s/%q (line %q)", id, c.Outcome(), c.ErrorKind, w.outcome, w.kind, Line(c))
				}
			}
			s := res.Summary()
			if s.OK != tt.ok || s.Failed != tt.failed || s.Skipped != tt.skipped || s.Actions != 11 {
				t.Errorf("summary: got ok=%d failed=%d skipped=%d actions=%d, want %d/%d/%d/11\n%s",
					s.OK, s.Failed, s.Skipped, s.Actions, tt.ok, tt.failed, tt.skipped, lines(t, res))
			}
			if res.Passed() != tt.passed {
				t.Errorf("Passed: got %v, want %v", res.Passed(), tt.passed)
			}
			if !strings.HasPrefix(res.Entry, tt.entry) {
				t.Errorf("entry: got %q, want prefix %q", res.Entry, tt.entry)
			}
			if tt.reasonHas != "" && !strings.Contains(s.String(), tt.reasonHas) {
				t.Errorf("summary %q lacks reason %q", s.String(), tt.reasonHas)
			}
		})
	}
}

func ids(r Result) []string {
	var out []string
	for _, c := range r.Checks() {
		out = append(out, c.ID)
	}
	return out
}

func lines(t *testing.T, r Result) string {
	t.Helper()
	var b strings.Builder
	if err := r.Write(&b); err != nil {
		t.Fatalf("write: %v", err)
	}
	return b.String()
}
