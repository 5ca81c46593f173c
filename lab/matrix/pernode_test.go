package matrix

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	restclient "k8s.io/client-go/rest"
	k8stesting "k8s.io/client-go/testing"

	"github.com/podpaths/podpaths/platform/report"
)

// podSlice is an EndpointSlice whose endpoints name their pods, as real
// ones do: pod name -> node.
func podSlice(service string, podNode map[string]string) *discoveryv1.EndpointSlice {
	s := endpointSlice(service, nil)
	port := int32(8080)
	s.Ports = []discoveryv1.EndpointPort{{Port: &port}}
	yes := true
	i := 0
	for pod, node := range podNode {
		i++
		s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{
			Addresses: []string{fmt.Sprintf("10.244.9.%d", i)}, NodeName: &node,
			Conditions: discoveryv1.EndpointConditions{Ready: &yes},
			TargetRef:  &corev1.ObjectReference{Kind: "Pod", Name: pod},
		})
	}
	return s
}

func TestPerNodeActionsAskAFrontendOnEachNode(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.replace(podSlice("frontend-nodeport", map[string]string{"frontend-a": workerNode, "frontend-b": worker2}))
	f.replace(podSlice("backend", map[string]string{"backend-0": workerNode, "backend-1": worker2}))
	cs := f.clientset()
	var mu sync.Mutex
	var asked []string
	cs.PrependProxyReactor("pods", func(a k8stesting.Action) (bool, restclient.ResponseWrapper, error) {
		pa := a.(k8stesting.ProxyGetAction)
		mu.Lock()
		asked = append(asked, pa.GetName()+":"+pa.GetPort()+pa.GetPath())
		mu.Unlock()
		var h http.Handler = f.front
		if pa.GetPath() == pathSpread {
			// Both nodes answer a frontend on either.
			h = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				jsonHandler(map[string]any{"n": 20, "pods": []map[string]any{
					{"pod": "backend-0", "node": workerNode, "count": 9}, {"pod": "backend-1", "node": worker2, "count": 11},
				}})(w, nil)
			})
		}
		return true, handlerResponse{h: h, path: pa.GetPath(), params: pa.GetParams()}, nil
	})
	cfg := f.cfg
	cfg.DialContext = f.dial()
	res, err := New(cs, cfg).Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !res.Passed() {
		t.Errorf("run failed:\n%s", lines(t, res))
	}
	if s := res.Summary(); s.Actions != 15 {
		t.Errorf("actions: got %d, want 11 plus a report and a spread per node\n%s", s.Actions, lines(t, res))
	}
	got := map[string]Check{}
	for _, c := range res.Checks() {
		got[c.ID] = c
	}
	for _, node := range []string{workerNode, worker2} {
		sp, ok := got[report.NodeSpreadID(node)]
		if !ok || sp.Outcome() != report.OutcomePass || !strings.Contains(sp.Detail, "same node") || sp.FromNode != node {
			t.Errorf("spread from %s: %+v (line %q)", node, sp, Line(sp))
		}
		if _, ok := got["apiserver-frontend-paths-"+node]; !ok {
			t.Errorf("no path report from the frontend on %s: %v", node, ids(res))
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(asked) != 4 || !strings.HasPrefix(asked[0], "frontend-") || !strings.Contains(asked[0], ":8080/") {
		t.Errorf("pod proxy calls %v: want /api/paths and /api/spread on each frontend's port 8080", asked)
	}
}

func TestPerNodeActionsNeedTwoNodes(t *testing.T) {
	t.Parallel()
	if got := (&Checker{cfg: DefaultConfig()}).perNodeActions(targets{frontends: []podOnNode{{pod: "f", node: "a"}}}); got != nil {
		t.Errorf("one node: got %d actions, want none (the entry's view is that node's)", len(got))
	}
}

func TestJudgeNodeSpread(t *testing.T) {
	t.Parallel()
	sp := func(same, other, failed int) report.Spread {
		s := report.Spread{N: same + other + failed, Pods: []report.PodCount{{Pod: "b-0", Node: "a", Count: same}, {Pod: "b-1", Node: "b", Count: other}}}
		if failed > 0 {
			s.Errors = map[string]int{"timeout": failed}
		}
		return s
	}
	both := map[string]int{"a": 2, "b": 1}
	tests := []struct {
		name    string
		s       report.Spread
		backend map[string]int
		wantErr string
	}{
		{"both nodes answered", sp(12, 8, 0), both, ""},
		{"never crossed", sp(20, 0, 0), both, "crossed"},
		{"never stayed", sp(0, 20, 0), both, "answered on a"},
		{"failures", sp(10, 8, 2), both, "failed"},
		{"no backend here, none expected", sp(0, 20, 0), map[string]int{"b": 3}, ""},
	}
	for _, tt := range tests {
		detail, err := judgeNodeSpread(tt.s, "a", tt.backend)
		if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%s: got %v (%s), want error containing %q", tt.name, err, detail, tt.wantErr)
		}
		if !strings.HasPrefix(detail, "same node ") {
			t.Errorf("%s: detail %q", tt.name, detail)
		}
	}
}

func TestLineNamesBothNodes(t *testing.T) {
	t.Parallel()
	c := Check{Path: report.Path{From: "frontend", To: "backend", Method: report.MethodHeadless, OK: true, Expected: report.ExpectOK,
		FromNode: "podpaths-a", ToNode: "podpaths-b", AnsweredBy: &report.Pod{Pod: "backend-1", Node: "podpaths-b"}}}
	if got, want := Line(c), "frontend@podpaths-a -> backend@podpaths-b via headless: ok backend-1@podpaths-b 0.0ms"; got != want {
		t.Errorf("Line:\n got %q\nwant %q", got, want)
	}
}
