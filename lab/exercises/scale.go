package exercises

import (
	"context"
	"fmt"
	"slices"

	"github.com/podpaths/podpaths/lab/workshop"
	"github.com/podpaths/podpaths/lab/workshop/actions"
	"github.com/podpaths/podpaths/platform/report"
)

func scale() workshop.Exercise {
	return workshop.Exercise{
		Slug:  "scale",
		Title: "Scale the StatefulSet",
		Goal:  "see the headless Service follow the set of ready pods, and see what a Service without endpoints does.",
		Predict: []string{
			"You scale the backend to 5. What names do the new pods get? How many `frontend-backend-headless-*` rows appear?",
			"Does the address in `frontend-backend-dns` change?",
			"Now you scale to 0. Which `error_kind` do `env`, `dns` and `static` get? And `headless`? And nginx's `/my-be/`?",
		},
		Steps: []workshop.Step{
			{
				Name: "scale to 5",
				Do:   []workshop.Action{actions.Scale{Workload: workshop.Backend, Replicas: 5}, actions.RolledOut{Workload: workshop.Backend}},
				Expect: []workshop.Expectation{
					workshop.Observed{Says: "the new pods are `backend-3` and `backend-4`", Holds: podsAre("backend-0", "backend-1", "backend-2", "backend-3", "backend-4")},
					workshop.Rows{Prefix: report.HeadlessID(""), N: 5, Why: "one headless row per ready pod"},
					workshop.Observed{Says: "every backend that reports its siblings lists 5, itself included", Paths: []string{"backend-backend-*"}, Holds: workshop.SiblingsAre(5)},
					workshop.Observed{Says: "the spread line of `make check` says `(5 ready)`", Paths: []string{report.IDSpread + "*"}, Holds: spreadSays("(5 ready)")},
					workshop.Observed{Says: "`frontend-backend-dns` still calls the same ClusterIP: it does not depend on the pods", Paths: []string{idDNS}, Holds: dnsAddressIsClusterIP},
					workshop.CheckPasses(true),
				},
			},
			{
				Name: "scale to 0",
				Do:   []workshop.Action{actions.Scale{Workload: workshop.Backend, Replicas: 0}, actions.RolledOut{Workload: workshop.Backend}},
				Expect: append([]workshop.Expectation{
					workshop.Path{ID: report.IDNginxFrontend, Is: workshop.Works, Why: "nothing in that pod changed"},
					workshop.Path{ID: idEnv, Is: workshop.FailsWith(report.ErrorRefused, report.ErrorTimeout),
						Why: "kube-proxy rejects a connection to a Service without endpoints; the kernel rate-limits the rejections, so fast repeated calls mostly time out"},
					workshop.Path{ID: idDNS, Is: workshop.FailsWith(report.ErrorRefused, report.ErrorTimeout)},
					workshop.Path{ID: idStatic, Is: workshop.FailsWith(report.ErrorRefused, report.ErrorTimeout), Why: "the copied address is the same ClusterIP"},
					workshop.Path{ID: report.IDSticky, Is: workshop.FailsWith(report.ErrorRefused, report.ErrorTimeout)},
					workshop.Path{ID: report.IDNearby, Is: workshop.FailsWith(report.ErrorRefused, report.ErrorTimeout)},
					workshop.Path{ID: report.IDAlias, Is: workshop.FailsWith(report.ErrorRefused, report.ErrorTimeout), Why: "the alias still resolves, to a Service without endpoints"},
					workshop.Path{ID: report.IDHeadless, Is: workshop.FailsWith(report.ErrorDNS), Why: "one row, no pod suffix: a headless Service without ready pods has no records"},
					workshop.Path{ID: report.IDNginxBackend, Is: workshop.FailsWith(report.ErrorHTTP, report.ErrorTimeout),
						Why: "nginx answers 502 when its connection is refused; when the rejection is rate-limited, nginx's own connect waits its 2 s, and the frontend's call times out first"},
					workshop.Observed{Says: "the spread line says `(0 ready)`", Paths: []string{report.IDSpread}, Holds: spreadSays("(0 ready)")},
					workshop.CheckPasses(false),
				}, noBackendReached()...),
			},
		},
		Explain: `The ClusterIP does not depend on the pods, so it does not change. With no ready endpoint, kube-proxy
rejects the connection, so the caller sees ` + "`refused`" + ` and not a hang. A headless Service has no IP of its
own, only DNS records for ready pods, so without pods the lookup itself fails (` + "`dns`" + `). nginx turns its own
refused connection into a 502, so the frontend sees ` + "`http`" + `. StatefulSet pods are named by ordinal. This
lab uses ` + "`podManagementPolicy: Parallel`" + `, so new pods start together, and scaling down removes the highest
ordinals first. See https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/.`,
		Notes: []string{
			"kube-proxy rejects a connection to a Service without endpoints with an ICMP \"port unreachable\", which " +
				"the caller's kernel turns into `refused`. The sending kernel rate-limits such ICMP errors " +
				"(`net.ipv4.icmp_ratelimit`, about one a second per destination), so of many fast calls from one pod, " +
				"the first are `refused` and the rest time out: the spread of 20 calls shows, for example, " +
				"`refused=5 timeout=15`, and nginx may answer 504 instead of 502. One call at a time is `refused`.",
			"The headless rows follow the scaling only after CoreDNS's cache for the headless name expires (up to 30 s); " +
				"`make exercise` waits for it.",
		},
	}
}

func podsAre(want ...string) func(context.Context, *workshop.Env, *workshop.State) error {
	return func(ctx context.Context, env *workshop.Env, _ *workshop.State) error {
		got, err := backendPods(ctx, env)
		if err != nil {
			return err
		}
		if !slices.Equal(got, want) {
			return fmt.Errorf("backend pods %v", got)
		}
		return nil
	}
}

func spreadSays(want string) func(context.Context, *workshop.Env, *workshop.State) error {
	return func(_ context.Context, _ *workshop.Env, s *workshop.State) error {
		d, err := spreadDetail(s)
		if err != nil {
			return err
		}
		return contains(d, want)
	}
}

func dnsAddressIsClusterIP(ctx context.Context, env *workshop.Env, s *workshop.State) error {
	ip, err := clusterIP(ctx, env, "backend")
	if err != nil {
		return err
	}
	for _, c := range s.Paths(idDNS) {
		if len(c.Addresses) == 0 || c.Addresses[0] != ip {
			return fmt.Errorf("%s found %v, the ClusterIP is %s", idDNS, c.Addresses, ip)
		}
	}
	return nil
}
