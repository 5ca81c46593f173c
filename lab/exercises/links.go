package exercises

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/podpaths/podpaths/lab/workshop"
	"github.com/podpaths/podpaths/lab/workshop/actions"
)

func serviceLinks() workshop.Exercise {
	return workshop.Exercise{
		Slug:  "links",
		Title: "Service links: enableServiceLinks and the start-time snapshot",
		Goal:  "see where `BACKEND_SERVICE_HOST` comes from, when it is missing, and that it never changes in a running pod.",
		Predict: []string{
			"With `enableServiceLinks: false`, what happens to `frontend-backend-env`: failed or skipped? Which variables does `/api/links` still list?",
			"You create a new Service. Does a running frontend pod see `BACKEND_EXTRA_SERVICE_HOST`? When does it?",
		},
		Steps: []workshop.Step{
			{
				Name: "switch service links off",
				Do:   []workshop.Action{actions.Kustomize{Components: []string{"no-service-links"}}, actions.RolledOut{Workload: workshop.Frontend}},
				Expect: []workshop.Expectation{
					workshop.Path{ID: idEnv, Is: workshop.Skipped, Why: "`BACKEND_SERVICE_HOST is not set: the pod started before the Service existed, enableServiceLinks is false, or this is not Kubernetes`"},
					workshop.Path{ID: idDNS, Is: workshop.Works, Why: "DNS does not depend on service links"},
					workshop.Observed{Says: "`/api/links` lists only `KUBERNETES_SERVICE_HOST`, `KUBERNETES_SERVICE_PORT` and `KUBERNETES_SERVICE_PORT_HTTPS`",
						Holds: linksAre("KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT", "KUBERNETES_SERVICE_PORT_HTTPS")},
					workshop.CheckPasses(true),
				},
			},
			{
				Name: "back to the base, then create a Service while the pods run",
				Do: []workshop.Action{actions.ApplyBase{}, actions.RolledOut{Workload: workshop.Frontend},
					actions.CreateService{Name: "backend-extra"}},
				Expect: []workshop.Expectation{
					workshop.Path{ID: idEnv, Is: workshop.Works},
					workshop.Observed{Says: "the running frontend pods have no `BACKEND_EXTRA_*` variables", Holds: noLink("BACKEND_EXTRA_")},
				},
			},
			{
				Name: "restart the frontend",
				Do:   []workshop.Action{actions.Restart{Workload: workshop.Frontend}, actions.RolledOut{Workload: workshop.Frontend}},
				// /api/links comes through the Service: the rollout is done
				// once the new pods are available, while the last old one
				// still drains, and a node's kube-proxy may send a new
				// connection there for a moment longer (CI once saw an old
				// pod answer the check that followed the exercise).
				Hold: 5 * time.Second,
				Expect: []workshop.Expectation{
					workshop.Observed{Says: "the new pods have `BACKEND_EXTRA_SERVICE_HOST` (the new Service's ClusterIP), `BACKEND_EXTRA_SERVICE_PORT` and one variable per named port",
						Holds: extraLinks},
				},
			},
		},
		Explain: `The kubelet writes ` + "`<SVC>_SERVICE_HOST`, `<SVC>_SERVICE_PORT[_<NAME>]`" + ` and the Docker-link style
` + "`<SVC>_PORT_<port>_TCP...`" + ` variables into each container when it starts. It writes them only for Services that
exist at that moment and have a ClusterIP, and never updates them. ` + "`enableServiceLinks: false`" + ` turns them off for
the namespace's Services. The ` + "`kubernetes`" + ` Service of the ` + "`default`" + ` namespace is always injected. The
report counts an ` + "`unconfigured`" + ` method as skipped, not failed: the method was not available, and the network is
not at fault. This is why the lab applies Services before workloads, and why DNS is the recommended method. The full
list of variable names is in [paths.md](paths.md#frontend---backend-by-env-service-links). See
https://kubernetes.io/docs/concepts/services-networking/service/#environment-variables.`,
	}
}

// linksAre expects exactly these service-link variables in /api/links.
func linksAre(want ...string) holds {
	return func(ctx context.Context, env *workshop.Env, _ *workshop.State) error {
		l, err := links(ctx, env)
		if err != nil {
			return err
		}
		if got := slices.Sorted(maps.Keys(l)); !slices.Equal(got, want) {
			return fmt.Errorf("/api/links lists %v", got)
		}
		return nil
	}
}

// noLink expects no service-link variable starting with prefix.
func noLink(prefix string) holds {
	return func(ctx context.Context, env *workshop.Env, _ *workshop.State) error {
		l, err := links(ctx, env)
		if err != nil {
			return err
		}
		for name := range l {
			if strings.HasPrefix(name, prefix) {
				return fmt.Errorf("/api/links has %s", name)
			}
		}
		return nil
	}
}

func extraLinks(ctx context.Context, env *workshop.Env, _ *workshop.State) error {
	ip, err := clusterIP(ctx, env, "backend-extra")
	if err != nil {
		return err
	}
	l, err := links(ctx, env)
	if err != nil {
		return err
	}
	want := map[string]string{"BACKEND_EXTRA_SERVICE_HOST": ip, "BACKEND_EXTRA_SERVICE_PORT": "8080", "BACKEND_EXTRA_SERVICE_PORT_HTTP": "8080"}
	for name, v := range want {
		if l[name] != v {
			return fmt.Errorf("/api/links has %s=%q, want %q", name, l[name], v)
		}
	}
	return nil
}
