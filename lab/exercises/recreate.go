package exercises

import (
	"context"
	"fmt"
	"net"

	"github.com/podpaths/podpaths/lab/workshop"
	"github.com/podpaths/podpaths/lab/workshop/actions"
	"github.com/podpaths/podpaths/platform/report"
)

func recreate() workshop.Exercise {
	return workshop.Exercise{
		Slug:  "recreate",
		Title: "Delete and recreate the backend Service",
		Goal:  "see which discovery methods follow a Service that is replaced, and which keep the old address.",
		Predict: []string{
			"The `backend` Service is deleted. For each of `dns`, `env`, `static`, `alias` (ExternalName), nginx's `/my-be/`, `headless` and `sticky`: what does it show?",
			"The Service is created again by hand, with a new ClusterIP. Which methods recover by themselves? Which one needs a pod restart? Which one never recovers?",
		},
		Steps: []workshop.Step{
			{
				Name:   "delete the Service",
				Do:     []workshop.Action{actions.DeleteService{Name: "backend"}},
				Within: workshop.DNSWait,
				Expect: append([]workshop.Expectation{
					workshop.Path{ID: idDNS, Is: workshop.FailsWith(report.ErrorDNS), Why: "once the cached answers have expired; before that, `timeout` at the old address"},
					workshop.OnlyOn{Provider: "local", Expectation: workshop.Path{ID: idEnv, Is: workshop.FailsWith(report.ErrorTimeout),
						Why: "the variable still holds the old address, which nothing answers any more"}},
					workshop.OnlyOn{Provider: "kind", Expectation: workshop.Path{ID: idEnv, Is: workshop.FailsWith(report.ErrorTimeout, report.ErrorRefused, report.ErrorOther),
						Why: "the variable still holds the old address, which nothing answers any more"}},
					workshop.OnlyOn{Provider: "local", Expectation: workshop.Path{ID: idStatic, Is: workshop.FailsWith(report.ErrorTimeout),
						Why: "so does the copy in `PODPATHS_BACKEND_ADDR`"}},
					workshop.OnlyOn{Provider: "kind", Expectation: workshop.Path{ID: idStatic, Is: workshop.FailsWith(report.ErrorTimeout, report.ErrorRefused, report.ErrorOther),
						Why: "so does the copy in `PODPATHS_BACKEND_ADDR`"}},
					workshop.Path{ID: report.IDNginxBackend, Is: workshop.FailsWith(report.ErrorHTTP),
						Why: "once its cached answer (`valid=5s`) and CoreDNS's have expired, nginx finds no such name and answers 502"},
					workshop.Path{ID: report.HeadlessID(""), Prefix: true, Is: workshop.Works, Why: "`backend-headless` is another Service, untouched"},
					workshop.Path{ID: report.IDSticky, Is: workshop.Works, Why: "so is `backend-sticky`"},
					workshop.Path{ID: report.IDAlias, Is: workshop.FailsWith(report.ErrorDNS),
						Why: "`backend-alias` (ExternalName) still points at `backend`'s name, which no longer resolves; its query shows the CNAME it followed"},
					workshop.CheckPasses(false),
				}, noBackendReached()...),
			},
			{
				Name:   "create it again, by hand",
				Do:     []workshop.Action{actions.CreateService{Name: "backend", From: "backend-sticky"}},
				Within: workshop.DNSWait,
				Expect: append([]workshop.Expectation{
					workshop.Observed{Says: "`frontend-backend-dns` works, at the new ClusterIP", Paths: []string{idDNS}, Holds: dnsAtClusterIP},
					workshop.Path{ID: report.IDNginxBackend, Is: workshop.Works, Why: "once the cached answers have expired"},
					workshop.Path{ID: report.IDAlias, Is: workshop.Works, Why: "an alias is only a name: it follows as `dns` does"},
					workshop.Observed{Says: "`frontend-backend-env` still fails: `BACKEND_SERVICE_HOST` holds the old ClusterIP, which `/api/links` shows",
						Paths: []string{idEnv}, Holds: envIsStale(true)},
					workshop.Observed{Says: "`frontend-backend-static` fails too: `PODPATHS_BACKEND_ADDR` holds the old, pinned ClusterIP, and a Service created by hand gets whatever address is free",
						Paths: []string{idStatic}, Holds: staticIsStale},
				}, backendReachedAgain()...),
			},
			{
				Name:   "restart the frontend",
				Do:     []workshop.Action{actions.Restart{Workload: workshop.Frontend}, actions.RolledOut{Workload: workshop.Frontend}},
				Within: workshop.DNSWait,
				Expect: []workshop.Expectation{
					workshop.Observed{Says: "`frontend-backend-env` works again: the new pods got the new ClusterIP in `BACKEND_SERVICE_HOST`",
						Paths: []string{idEnv}, Holds: envIsStale(false)},
					workshop.Observed{Says: "`frontend-backend-static` still fails: a restart reads the same copy from the Deployment",
						Paths: []string{idStatic}, Holds: staticIsStale},
					workshop.CheckPasses(false),
				},
			},
		},
		Explain: `A ClusterIP is allocated when the Service is created. A recreated Service almost always gets a new
one. DNS is asked on every report, so it follows as soon as the caches do: CoreDNS answers with a 30 s TTL and
caches for up to 30 s, and nginx caches each answer for ` + "`valid=5s`" + `. The ` + "`env`" + ` variables are a snapshot
from pod start, so they point at an address that kube-proxy no longer handles, until the pod restarts. An address
copied into the configuration (` + "`static`" + `, ` + "`PODPATHS_BACKEND_ADDR`" + `) never follows: the lab pins
` + "`backend`" + `'s ClusterIP in its manifest (` + "`clusterIP: 10.96.0.80`" + `) so that applying it again gives the
same address, but a Service made by hand (` + "`kubectl expose`" + `, or a manifest without the field) gets whatever
address is free. ` + "`make exercise-reset`" + ` deletes the hand-made Service, applies the manifest and restarts the
frontend. ` + "`backend-headless`" + ` and ` + "`backend-sticky`" + ` are separate Service objects in front of the same pods, so they
never noticed. ` + "`backend-alias`" + ` is an ExternalName Service: no address and no endpoints, only a CNAME for
` + "`backend`" + `'s name, so it fails and recovers exactly as that name does. See https://kubernetes.io/docs/concepts/services-networking/service/#discovering-services.`,
		Notes: []string{
			"A call to the deleted Service's old address: kube-proxy has no rule for an address it does not " +
				"allocate. The local cluster drops such packets on every node (as kube-proxy's nftables mode does), so " +
				"the call times out. On kind (iptables mode) the packet goes on unrewritten and the result depends on " +
				"the node's routes: usually a timeout.",
			"A Service recreated with its *old* ClusterIP (`spec.clusterIP` set by hand) has a trap of its own. With " +
				"kube-proxy in iptables mode (kind's default), a call made while the Service was gone leaves in the " +
				"node's conntrack table an unanswered flow that nobody rewrote, kept for 120 s; a new connection that " +
				"happens to reuse that source port follows the old entry past kube-proxy and times out. kube-proxy " +
				"clears such flows for UDP only; by hand, in the node: `conntrack -D -p tcp --orig-dst <ClusterIP> " +
				"--reply-src <ClusterIP>` deletes exactly the flows nobody rewrote. The local cluster drops such " +
				"packets before conntrack keeps them. `TestRecreatedServiceAndAReusedPort` in `e2e/` checks both on " +
				"every node: on the local cluster the reused port is answered at once; on kind it fails until the " +
				"node forgets the flow.",
		},
	}
}

// staticIsStale expects the static path to fail at an address that is no
// longer the backend Service's ClusterIP.
func staticIsStale(ctx context.Context, env *workshop.Env, s *workshop.State) error {
	ip, err := clusterIP(ctx, env, "backend")
	if err != nil {
		return err
	}
	for _, c := range s.Paths(idStatic) {
		if len(c.Addresses) == 0 || hostOf(c.Addresses[0]) == ip {
			return fmt.Errorf("%s calls %v, the ClusterIP is %s", idStatic, c.Addresses, ip)
		}
	}
	return workshop.Path{ID: idStatic, Is: workshop.FailsWith(report.ErrorTimeout, report.ErrorRefused, report.ErrorOther)}.Check(ctx, env, s)
}

func dnsAtClusterIP(ctx context.Context, env *workshop.Env, s *workshop.State) error {
	if err := (workshop.Path{ID: idDNS, Is: workshop.Works}).Check(ctx, env, s); err != nil {
		return err
	}
	return dnsAddressIsClusterIP(ctx, env, s)
}

// envIsStale expects BACKEND_SERVICE_HOST to differ from the Service's
// ClusterIP and the env path to fail (stale), or both to agree and the
// path to work.
func envIsStale(stale bool) holds {
	return func(ctx context.Context, env *workshop.Env, s *workshop.State) error {
		ip, err := clusterIP(ctx, env, "backend")
		if err != nil {
			return err
		}
		l, err := links(ctx, env)
		if err != nil {
			return err
		}
		host := l["BACKEND_SERVICE_HOST"]
		if (host != ip) != stale {
			return fmt.Errorf("BACKEND_SERVICE_HOST=%s, the ClusterIP is %s", host, ip)
		}
		want := workshop.Works
		if stale {
			want = workshop.FailsWith(report.ErrorTimeout, report.ErrorRefused, report.ErrorOther)
		}
		return workshop.Path{ID: idEnv, Is: want}.Check(ctx, env, s)
	}
}

// hostOf is the host of "host:port", or addr itself when it has no port.
func hostOf(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}
