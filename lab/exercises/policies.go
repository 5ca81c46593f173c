package exercises

import (
	"context"
	"errors"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podpaths/podpaths/lab/matrix"
	"github.com/podpaths/podpaths/lab/workshop"
	"github.com/podpaths/podpaths/lab/workshop/actions"
	"github.com/podpaths/podpaths/platform/report"
)

func internalLocal() workshop.Exercise {
	return workshop.Exercise{
		Slug:  "itp-local",
		Title: "internalTrafficPolicy: Local and trafficDistribution: PreferSameNode",
		Goal:  "see a Service that only routes to pods on the caller's own node, next to one that only prefers them.",
		Predict: []string{
			"The backend pods run on both nodes that run frontends. Does `frontend-backend-local-dns` work from both frontend pods? Which node answers `frontend-backend-nearby-dns`?",
			"After scaling the backend to 1, what does the frontend on the other node get from `backend-local`: `refused` or `timeout`? And from `backend-nearby`? Does `make check` fail?",
		},
		Steps: []workshop.Step{
			{
				Name: "add the internal-traffic-local component",
				Do:   []workshop.Action{actions.Kustomize{Components: []string{"internal-traffic-local"}}, actions.RolledOut{Workload: workshop.Frontend}},
				Expect: []workshop.Expectation{
					workshop.Observed{Says: "from each node's frontend, `frontend-backend-local-dns` is answered by a backend on that same node (the dashboard tags it `same node`)",
						Paths: []string{report.IDLocal}, Holds: answersOnOwnNode(report.IDLocal)},
					workshop.Observed{Says: "so is `frontend-backend-nearby-dns`: with a backend on every node, PreferSameNode keeps each call on its node",
						Paths: []string{report.IDNearby}, Holds: answersOnOwnNode(report.IDNearby)},
					workshop.CheckPasses(true),
				},
			},
			{
				Name: "scale the backend to 1",
				Do:   []workshop.Action{actions.Scale{Workload: workshop.Backend, Replicas: 1}, actions.RolledOut{Workload: workshop.Backend}},
				Expect: []workshop.Expectation{
					workshop.Observed{Says: "from the node without `backend-0`, `frontend-backend-local-dns` is blocked, as expected, with `timeout`; " +
						"from the node with it, it works. `make check` prints `ok (timeout, expected)` for the first",
						Paths: []string{report.IDLocal}, Holds: localBlockedWithoutBackend},
					workshop.Observed{Says: "from both nodes, `frontend-backend-nearby-dns` is answered by `backend-0`: PreferSameNode falls back to the other node where `Local` drops",
						Paths: []string{report.IDNearby}, Holds: nearbyFallsBack},
					workshop.Rows{Prefix: report.HeadlessID(""), N: 1, Why: "one backend left"},
					workshop.Observed{Says: "`backend-0` lists itself as its only sibling", Paths: []string{"backend-backend-*"}, Holds: workshop.SiblingsAre(1)},
					workshop.CheckPasses(true),
				},
			},
		},
		Explain: `With ` + "`internalTrafficPolicy: Local`" + `, kube-proxy on each node only uses the endpoints on that node
for this Service. Without one, it drops the packets rather than rejecting them, so the caller sees a timeout. The
frontend decides whether a drop is expected by looking at its headless answers: if no backend pod answered from its
own node, the path must fail. Use ` + "`Local`" + ` to keep traffic on the node (for node-local agents or caches), and
only where every client node has an endpoint. ` + "`trafficDistribution: PreferSameNode`" + ` (` + "`backend-nearby`" + `, in
the base) asks for the same locality as a preference: the EndpointSlice controller hints each endpoint for its own
node, and kube-proxy uses the hinted endpoints when its node has any, and all of them when it has none. See
https://kubernetes.io/docs/concepts/services-networking/service-traffic-policy/ and
https://kubernetes.io/docs/reference/networking/virtual-ips/#traffic-distribution.`,
		Notes: []string{"The component adds the Service `backend-local` and sets `PODPATHS_LOCAL_SERVICE`, so the frontend " +
			"rolls. `make check` asks the frontend on every node for its report, so both views are in its output."},
	}
}

// everyNode are the rows of path id of every node's frontend.
func everyNode(s *workshop.State, id string) ([]matrix.Check, error) {
	var out []matrix.Check
	nodes := map[string]bool{}
	for _, c := range s.Paths(id) {
		out = append(out, c)
		nodes[c.FromNode] = true
	}
	if len(nodes) < 2 {
		return nil, fmt.Errorf("%s reported from %d node(s), want the frontends of 2", id, len(nodes))
	}
	return out, nil
}

// answersOnOwnNode expects every node's frontend to get its answer on id
// from a backend on its own node.
func answersOnOwnNode(id string) holds {
	return func(_ context.Context, _ *workshop.Env, s *workshop.State) error {
		checks, err := everyNode(s, id)
		if err != nil {
			return err
		}
		for _, c := range checks {
			if !c.OK || c.AnsweredBy == nil || c.AnsweredBy.Node != c.FromNode {
				return fmt.Errorf("from %s: ok=%t answered on %v", c.FromNode, c.OK, c.AnsweredBy)
			}
		}
		return nil
	}
}

// nearbyFallsBack expects backend-0, the only backend, to answer the
// PreferSameNode Service from every node.
func nearbyFallsBack(_ context.Context, _ *workshop.Env, s *workshop.State) error {
	checks, err := everyNode(s, report.IDNearby)
	if err != nil {
		return err
	}
	for _, c := range checks {
		if !c.OK || c.AnsweredBy == nil || c.AnsweredBy.Pod != "backend-0" {
			return fmt.Errorf("from %s: ok=%t answered by %v", c.FromNode, c.OK, c.AnsweredBy)
		}
	}
	return nil
}

func localBlockedWithoutBackend(ctx context.Context, env *workshop.Env, s *workshop.State) error {
	pod, err := env.Clients.Kube.CoreV1().Pods(env.Namespace).Get(ctx, "backend-0", metav1.GetOptions{})
	if err != nil {
		return err
	}
	checks, err := everyNode(s, report.IDLocal)
	if err != nil {
		return err
	}
	var errs []error
	for _, c := range checks {
		withBackend := c.FromNode == pod.Spec.NodeName
		switch {
		case withBackend && !c.OK:
			errs = append(errs, fmt.Errorf("from %s (with backend-0): %s", c.FromNode, c.ErrorKind))
		case !withBackend && (c.OK || c.Expected != report.ExpectFail || c.ErrorKind != report.ErrorTimeout):
			errs = append(errs, fmt.Errorf("from %s (without a backend): ok=%t expected=%s kind=%s", c.FromNode, c.OK, c.Expected, c.ErrorKind))
		}
	}
	return errors.Join(errs...)
}

func externalLocal() workshop.Exercise {
	return workshop.Exercise{
		Slug:  "etp-local",
		Title: "externalTrafficPolicy: Local",
		Goal:  "see how a NodePort treats nodes with and without a frontend pod, and which client address nginx sees.",
		Predict: []string{
			"Which nodes still answer on the NodePort? Does `http://localhost:30080` still work? (Which node does it lead to, and does it run a frontend pod?)",
			"Which `make check` lines become expected failures, and with which error kind?",
			"What client IP does nginx see before and after the change?",
		},
		Steps: []workshop.Step{
			{
				Name: "add the external-traffic-local component",
				Do:   []workshop.Action{actions.Kustomize{Components: []string{"external-traffic-local"}}},
				Expect: []workshop.Expectation{
					workshop.Observed{Says: "through each node that runs a frontend pod, the NodePort is answered by a frontend on that very node, " +
						"and nginx sees the caller's own address; every other node is blocked, as expected, with `timeout` (on the local " +
						"cluster, node A answers anyway: it is this machine, and kube-proxy treats a call from the node itself as its own traffic)",
						Paths: []string{report.OutsideNodePortID("") + "*"}, Holds: nodePortsFollowFrontends},
					workshop.Observed{Says: "the LoadBalancer Service `frontend` now has a `spec.healthCheckNodePort`: a load balancer asks it which nodes have a local frontend pod",
						Holds: healthCheckNodePorts},
					workshop.OnlyOn{Provider: "kind", Expectation: workshop.Path{ID: report.OutsideNodePortID("localhost"), Is: workshop.BlockedWith(report.ErrorTimeout),
						Why: "kind maps it to the control plane, which runs no frontend pod: the dashboard URL that `make kind-up` printed is dead until the reset"}},
					workshop.OnlyOn{Provider: "local", Expectation: workshop.Path{ID: report.OutsideNodePortID("localhost"), Is: workshop.Works,
						Why: "this machine is node A: kube-proxy treats a call from the node itself as the node's own traffic, which any endpoint may answer"}},
					workshop.CheckPasses(true),
				},
			},
			{
				Name: "scale the frontend to 1",
				Do:   []workshop.Action{actions.Scale{Workload: workshop.Frontend, Replicas: 1}, actions.RolledOut{Workload: workshop.Frontend}},
				Expect: []workshop.Expectation{
					workshop.Observed{Says: "the node that lost its frontend pod is blocked too, with `timeout` (unless it is this machine); the one with the pod still answers",
						Paths: []string{report.OutsideNodePortID("") + "*"}, Holds: nodePortsFollowFrontends},
					workshop.Observed{
						Says: "the external load balancer still sends calls to the node without a frontend pod, whose NodePort now drops them: " +
							"it checks kube-proxy, which is fine there, not the Service's `healthCheckNodePort`. Those calls wait out HAProxy's " +
							"2 s connect timeout and go to the other node, so `external-lb-nodeport-<that node>` fails and `make check` with it",
						Paths: []string{report.IDOutsideExternalLB, report.ExternalLBNodeID("") + "*"}, Holds: externalLBKeepsDroppingNode},
					workshop.CheckPasses(false),
				},
			},
		},
		Explain: `With ` + "`Cluster`" + `, every node forwards to any ready pod and rewrites the source address, so that the
reply returns through it: nginx sees a node-side address. With ` + "`Local`" + `, a node forwards only to its own pods
and keeps the source. Nodes without a pod drop the traffic, and a load balancer must avoid them, which is what the
health-check port is for: cloud load balancer controllers switch their health check to it, and a load balancer made
by hand, like the lab's HAProxy (which asks kube-proxy), has to be told. See
https://kubernetes.io/docs/tasks/access-application-cluster/create-external-load-balancer/#preserving-the-client-source-ip
and https://kubernetes.io/docs/tutorials/services/source-ip/.`,
		Notes: []string{"`make check` checks the client address itself: under `Local`, the NodePort of a node with a " +
			"frontend pod passes only when nginx's `X-Real-IP` is the address this machine called from. On macOS and " +
			"Windows, kind's node IPs are inside Docker Desktop's VM: those lines are skipped, and `make check` goes in " +
			"through the LoadBalancer or the API server's proxy."},
	}
}

// externalLBKeepsDroppingNode expects the calls through the external load
// balancer to work, carried only by nodes that run a frontend pod: the one
// without keeps passing the load balancer's check of kube-proxy.
func externalLBKeepsDroppingNode(ctx context.Context, env *workshop.Env, s *workshop.State) error {
	withFrontend, err := frontendNodes(ctx, env)
	if err != nil {
		return err
	}
	if err := (workshop.Path{ID: report.IDOutsideExternalLB, Is: workshop.Works}).Check(ctx, env, s); err != nil {
		return err
	}
	var errs []error
	for _, c := range s.PathsWithPrefix(report.ExternalLBNodeID("")) {
		if withFrontend[c.ToNode] == !c.OK {
			errs = append(errs, fmt.Errorf("%s (frontend there: %t): ok=%t", c.ID, withFrontend[c.ToNode], c.OK))
		}
	}
	return errors.Join(errs...)
}

// frontendNodes are the nodes that run a frontend pod that is not going
// away.
func frontendNodes(ctx context.Context, env *workshop.Env) (map[string]bool, error) {
	pods, err := frontendPods(ctx, env)
	if err != nil {
		return nil, err
	}
	nodes := map[string]bool{}
	for _, p := range pods {
		if p.DeletionTimestamp == nil {
			nodes[p.Spec.NodeName] = true
		}
	}
	return nodes, nil
}

// nodePortsFollowFrontends expects the NodePort on each node (not the
// localhost mapping) to work, answered on that node, where a frontend pod
// runs, and to be blocked with a timeout elsewhere.
func nodePortsFollowFrontends(ctx context.Context, env *workshop.Env, s *workshop.State) error {
	withFrontend, err := frontendNodes(ctx, env)
	if err != nil {
		return err
	}
	// The node this machine is (the local cluster's node A) treats a call
	// from here as its own traffic, which any endpoint may answer.
	self := ""
	if lh := env.Matrix.Localhost; lh.OnNode {
		self = lh.Node
	}
	var errs []error
	n := 0
	for _, c := range s.PathsWithPrefix(report.OutsideNodePortID("")) {
		if c.ToNode == "" || c.ID == report.OutsideNodePortID("localhost") || c.Outcome() == report.OutcomeSkip {
			continue
		}
		n++
		switch {
		case c.ToNode == self:
			if !c.OK {
				errs = append(errs, fmt.Errorf("%s (this machine): %s", c.ToNode, c.Error))
			}
		case withFrontend[c.ToNode] && (!c.OK || c.AnsweredBy == nil || c.AnsweredBy.Node != c.ToNode):
			errs = append(errs, fmt.Errorf("%s (runs a frontend): %s", c.ToNode, c.Error))
		case !withFrontend[c.ToNode] && (c.OK || c.Expected != report.ExpectFail || c.ErrorKind != report.ErrorTimeout):
			errs = append(errs, fmt.Errorf("%s (no frontend): ok=%t expected=%s kind=%s", c.ToNode, c.OK, c.Expected, c.ErrorKind))
		}
	}
	if n == 0 {
		errs = append(errs, errors.New("no node's NodePort was checked"))
	}
	return errors.Join(errs...)
}

func healthCheckNodePorts(ctx context.Context, env *workshop.Env, _ *workshop.State) error {
	for _, name := range []string{"frontend"} {
		svc, err := env.Clients.Kube.CoreV1().Services(env.Namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if svc.Spec.HealthCheckNodePort == 0 {
			return fmt.Errorf("service %s has no healthCheckNodePort", name)
		}
	}
	return nil
}
