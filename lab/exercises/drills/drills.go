// Package drills holds the workshop's fault drills: a fault started on
// purpose, what the report shows while it lasts, and how long the lab takes
// to recover once it ends. The runner times every step; a drill's last step
// is its recovery. They run after the exercises (package exercises), which
// list them last.
package drills

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/podpaths/podpaths/lab/workshop"
	"github.com/podpaths/podpaths/lab/workshop/actions"
	"github.com/podpaths/podpaths/platform/report"
)

// All returns the drills in workshop order.
func All() []workshop.Exercise {
	return []workshop.Exercise{sidecarKilled(), coreDNSDown(), kubeProxyStopped(), podDeletedUnderLoad(), kubeletStopped()}
}

// holds is what an Observed expectation checks.
type holds = func(context.Context, *workshop.Env, *workshop.State) error

// Path ids the drills name.
var (
	idEnv    = report.FrontendBackendID(report.MethodEnv)
	idDNS    = report.FrontendBackendID(report.MethodDNS)
	idStatic = report.FrontendBackendID(report.MethodStatic)
)

// nodeB is the local cluster's second node, which the node drills stop
// daemons on: the lab's own node A runs in this machine's network namespace.
const nodeB = "podpaths-b"

func sidecarKilled() workshop.Exercise {
	return workshop.Exercise{
		Slug:  "drill-sidecar",
		Title: "Drill: the sidecar dies",
		Goal:  "see a pod leave the Services when one of its containers stops, and nothing fail for the callers.",
		Predict: []string{
			"`backend-0`'s sidecar gets SIGTERM. Does the whole pod turn unready, or only the container?",
			"Does a steady load through nginx's `/my-be/` lose a request?",
		},
		Steps: []workshop.Step{
			{
				Name: "kill backend-0's sidecar under load",
				Do:   []workshop.Action{actions.LoadDuring{Name: "load", Action: actions.KillSidecar{Pod: "backend-0"}}},
				Expect: []workshop.Expectation{
					workshop.Watched{Pod: "backend-0", Says: "`backend-0` left the backend Service's endpoints while its sidecar restarted, and came back",
						Holds: func(seen []string) error { return sawThen(seen, "endpoint=not-ready", "endpoint=ready") }},
					workshop.Watched{Pod: "load", Says: "the load through nginx's `/my-be/` lost no request", Holds: noneFailed},
				},
			},
			{
				Name:   "recover",
				Do:     []workshop.Action{actions.Look{Cmd: "make check"}},
				Expect: []workshop.Expectation{workshop.CheckPasses(true)},
			},
		},
		Explain: `A pod is ready only when all its containers are. When the sidecar stops, its readiness probe fails,
the pod turns unready, and the EndpointSlice controller marks it not ready: kube-proxy and CoreDNS stop sending
anything to the whole pod, although backend itself still runs. The kubelet restarts the sidecar (the pod's
` + "`restartPolicy: Always`" + `), its probe passes, and the pod is back. Callers of the Service never notice.
See https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-conditions.`,
	}
}

func coreDNSDown() workshop.Exercise {
	coredns := workshop.Workload{Kind: "deployment", Name: "coredns"}
	back := []workshop.Action{
		actions.Scale{Workload: coredns, Namespace: "kube-system", Replicas: 1},
		actions.RolledOut{Workload: coredns, Namespace: "kube-system"},
	}
	return workshop.Exercise{
		Slug:  "drill-coredns",
		Title: "Drill: CoreDNS is down",
		Goal:  "see which discovery methods need DNS and which do not.",
		Predict: []string{
			"CoreDNS is scaled to 0. Which rows fail, and with which `error_kind`: `env`, `dns`, `static`, `headless`, nginx's `/my-be/`?",
			"How long after CoreDNS is back does everything work again?",
		},
		Steps: []workshop.Step{
			{
				Name:   "scale CoreDNS to 0",
				Do:     []workshop.Action{actions.Scale{Workload: coredns, Namespace: "kube-system", Replicas: 0}, actions.RolledOut{Workload: coredns, Namespace: "kube-system"}},
				Within: workshop.DNSWait,
				Expect: []workshop.Expectation{
					workshop.Path{ID: idEnv, Is: workshop.Works, Why: "the Service's address came in the environment: no lookup"},
					workshop.Path{ID: idStatic, Is: workshop.Works, Why: "neither does an address copied into the configuration"},
					workshop.Path{ID: idDNS, Is: workshop.FailsWith(report.ErrorDNS)},
					workshop.Path{ID: report.IDSticky, Is: workshop.FailsWith(report.ErrorDNS)},
					workshop.Path{ID: report.IDNearby, Is: workshop.FailsWith(report.ErrorDNS)},
					workshop.Path{ID: report.IDAlias, Is: workshop.FailsWith(report.ErrorDNS), Why: "an alias is nothing but DNS"},
					workshop.Path{ID: report.IDHeadless, Is: workshop.FailsWith(report.ErrorDNS), Why: "its SRV query got no answer"},
					workshop.Rows{Prefix: report.HeadlessID(""), N: 0, Why: "with no SRV answer there are no per-pod rows"},
					workshop.Observed{Says: "each backend's lookup of its siblings fails with `dns`, and lists none",
						Paths: []string{"backend-*"}, Holds: siblingsLookupFails(report.ErrorDNS)},
					workshop.Path{ID: report.IDNginxBackend, Is: workshop.FailsWith(report.ErrorHTTP, report.ErrorTimeout),
						Why: "nginx's resolver gets no answer; the frontend's call gives up first, or nginx answers 502"},
					workshop.Path{ID: report.IDOutsideWhoami, Is: workshop.FailsWith(report.ErrorHTTP), Why: "`make check`'s `/my-be/` lines get nginx's 502"},
					workshop.Path{ID: report.IDOutsidePeers, Is: workshop.FailsWith(report.ErrorHTTP)},
					workshop.CheckPasses(false),
				},
			},
			{
				Name:   "scale it back",
				Do:     back,
				Within: workshop.DNSWait,
				// One nginx worker may answer while another still waits
				// on a lookup that started while CoreDNS was gone (CI saw
				// `timeout` a second after every path was green).
				Hold: 8 * time.Second,
				Expect: []workshop.Expectation{
					workshop.Path{ID: idDNS, Is: workshop.Works},
					workshop.Path{ID: report.IDSticky, Is: workshop.Works},
					workshop.Path{ID: report.IDNearby, Is: workshop.Works},
					workshop.Path{ID: report.IDAlias, Is: workshop.Works},
					workshop.Rows{Prefix: report.HeadlessID(""), N: 3, Why: "one per backend pod again"},
					workshop.Observed{Says: "every backend lists its 3 siblings again", Paths: []string{"backend-*"}, Holds: workshop.SiblingsAre(3)},
					workshop.Path{ID: report.IDNginxBackend, Is: workshop.Works},
					workshop.Path{ID: report.IDOutsideWhoami, Is: workshop.Works},
					workshop.Path{ID: report.IDOutsidePeers, Is: workshop.Works},
					workshop.CheckPasses(true),
				},
			},
		},
		Undo: back,
		Explain: `Every name a pod looks up goes to the ` + "`kube-dns`" + ` Service. With no CoreDNS behind it, no lookup
gets an answer: each one runs out of time (the services give a lookup their peer timeout, 2 s) and the row says
` + "`dns`" + `, the stage that failed. So ` + "`dns`" + `, ` + "`headless`" + `, the backends' sibling lookups and nginx's
` + "`/my-be/`" + ` (its own ` + "`resolver`" + `) fail, while ` + "`env`" + ` keeps working:
the kubelet wrote the Service's ClusterIP into the environment when the pod started, so service links need no DNS.
See https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/.`,
	}
}

func kubeProxyStopped() workshop.Exercise {
	start := actions.Daemon{Node: nodeB, Name: "kube-proxy", Start: true}
	return workshop.Exercise{
		Slug:  "drill-kube-proxy",
		Title: "Drill: kube-proxy stops on a node",
		Goal:  "see that kube-proxy programs rules and is not in the path: existing Services keep working, new ones do not.",
		Only:  "local",
		Predict: []string{
			"kube-proxy stops on node B. Does the `backend` Service still answer from a pod on node B?",
			"A new Service `backend-drill` is created. Does it answer from node A? From node B?",
			"The external load balancer in front of the NodePorts checks each node's kube-proxy. What does it do with node B?",
		},
		Steps: []workshop.Step{
			{
				Name: "stop kube-proxy on node B and create a Service",
				Do: []workshop.Action{
					actions.StartProbeOn{Node: "podpaths-a"}, actions.StartProbeOn{Node: nodeB},
					actions.Daemon{Node: nodeB, Name: "kube-proxy"}, actions.CreateService{Name: "backend-drill"},
				},
				Expect: []workshop.Expectation{
					callFrom(nodeB, "backend", report.ErrorNone, "the rules kube-proxy wrote stay in the kernel"),
					callFrom("podpaths-a", "backend-drill", report.ErrorNone, "node A's kube-proxy programmed the new Service"),
					callFrom(nodeB, "backend-drill", report.ErrorTimeout, "nobody programmed it on node B"),
					workshop.Path{ID: report.ExternalLBNodeID(nodeB), Is: workshop.FailsWith(report.ErrorOther),
						Why: "the load balancer asks kube-proxy's `:10256/healthz` on every node each second, and took node B out after two failures, although its NodePort still answers"},
					workshop.Path{ID: report.IDOutsideExternalLB, Is: workshop.Works, Why: "every call goes through node A"},
					workshop.CheckPasses(false),
				},
			},
			{
				Name: "start kube-proxy again",
				Do:   []workshop.Action{start},
				Expect: []workshop.Expectation{
					callFrom(nodeB, "backend-drill", report.ErrorNone, "kube-proxy syncs every Service when it starts"),
					workshop.Path{ID: report.ExternalLBNodeID(nodeB), Is: workshop.Works, Why: "two passing checks bring node B back"},
					workshop.CheckPasses(true),
				},
			},
		},
		Undo: []workshop.Action{start},
		Explain: `kube-proxy watches Services and EndpointSlices and writes the node's packet-rewriting rules; the
kernel does the forwarding. So while it is stopped, what it wrote keeps working, and only changes are missed:
a new Service, a new endpoint, a pod that left. When it starts again it syncs everything. A load balancer in front of
the NodePorts cannot see stale rules, so it asks kube-proxy itself: cloud load balancers and the lab's HAProxy check
` + "`:10256/healthz`" + ` on every node and stop sending new connections to a node whose kube-proxy does not answer.
See https://kubernetes.io/docs/reference/networking/virtual-ips/.`,
	}
}

func podDeletedUnderLoad() workshop.Exercise {
	return workshop.Exercise{
		Slug:    "drill-pod-delete",
		Title:   "Drill: a backend pod is deleted under load",
		Goal:    "see a graceful shutdown lose nothing.",
		Predict: []string{"`backend-1` is deleted while a keep-alive load goes through nginx's `/my-be/`. How many requests fail?"},
		Steps: []workshop.Step{
			{
				Name: "delete backend-1 under load",
				Do:   []workshop.Action{actions.LoadDuring{Name: "load", Action: actions.DeletePod{Name: "backend-1"}}},
				Expect: []workshop.Expectation{
					workshop.Watched{Pod: "load", Says: "the load lost no request", Holds: noneFailed},
				},
			},
			{
				Name:   "recover",
				Do:     []workshop.Action{actions.Look{Cmd: "make check"}},
				Expect: []workshop.Expectation{workshop.CheckPasses(true)},
			},
		},
		Explain: `On deletion the pod turns unready at once (its ` + "`/readyz`" + ` fails while it drains), leaves the
endpoints, and keeps serving what is in flight for its drain delay; idle keep-alive connections are closed with
` + "`Connection: close`" + ` on their next answer, so nginx opens a new connection, to another pod.`,
	}
}

// callFrom expects a call from the probe pod on node to a Service of the
// lab's namespace, by name, to end with kind ("" for an answer).
func callFrom(node, service string, kind report.ErrorKind, why string) workshop.Expectation {
	says := "answers"
	if kind != report.ErrorNone {
		says = "fails with `" + string(kind) + "`"
	}
	return workshop.Observed{
		Says: fmt.Sprintf("from node %s, `%s` %s: %s", node, service, says, why),
		Holds: func(ctx context.Context, env *workshop.Env, _ *workshop.State) error {
			c, err := env.ProbeGetFrom(ctx, node, "http://"+service+"."+env.Namespace+".svc:8080/whoami")
			if err != nil {
				return err
			}
			if c.ErrorKind != kind {
				return fmt.Errorf("from %s, %s: %q, want %q", node, service, c.ErrorKind, kind)
			}
			return nil
		},
	}
}

// siblingsLookupFails expects every backend's lookup of its siblings to
// fail with kind, so that no backend lists a sibling.
func siblingsLookupFails(kind report.ErrorKind) holds {
	return func(ctx context.Context, env *workshop.Env, s *workshop.State) error {
		if n := len(s.SiblingsByPod()); n > 0 {
			return fmt.Errorf("%d backends still list siblings", n)
		}
		// The lookup rows are backend-<pod>-backend-headless, one per backend.
		return workshop.Path{ID: "backend-backend-", Prefix: true, Is: workshop.FailsWith(kind)}.Check(ctx, env, s)
	}
}

// noneFailed expects a load that lost no request.
func noneFailed(seen []string) error {
	for _, line := range seen {
		if n, ok := strings.CutPrefix(line, "failed "); ok {
			if v, err := strconv.Atoi(n); err != nil || v != 0 {
				return fmt.Errorf("%s requests failed", n)
			}
			return nil
		}
	}
	return fmt.Errorf("no count of failed requests")
}

// sawThen expects first, and then later second, among what was seen.
func sawThen(seen []string, first, second string) error {
	i := slices.IndexFunc(seen, func(s string) bool { return strings.Contains(s, first) })
	if i < 0 {
		return fmt.Errorf("never saw %s", first)
	}
	if !slices.ContainsFunc(seen[i:], func(s string) bool { return strings.Contains(s, second) }) {
		return fmt.Errorf("saw %s but not %s after it", first, second)
	}
	return nil
}
