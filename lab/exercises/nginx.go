package exercises

import (
	"context"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/podpaths/podpaths/lab/workshop"
	"github.com/podpaths/podpaths/lab/workshop/actions"
	"github.com/podpaths/podpaths/platform/report"
)

// staticTemplate mounts nginx/static.conf.template in place of the default
// one: change the key of the nginx-templates item and keep its path.
var staticTemplate = actions.Kustomize{Patches: []actions.Patch{{
	Target: "kind: Deployment\nname: frontend",
	Body: `- op: test
  path: /spec/template/spec/volumes/0/name
  value: nginx-templates
- op: replace
  path: /spec/template/spec/volumes/0/configMap/items/0/key
  value: static.conf.template`,
}}}

func nginxStatic() workshop.Exercise {
	return workshop.Exercise{
		Slug:  "nginx-static",
		Title: "nginx: static vs dynamic resolution",
		Goal:  "see why `/my-be/` puts the backend's name in a variable and sets a `resolver`.",
		Predict: []string{
			"With the static configuration, the `backend` Service is recreated with a new ClusterIP. Does `/my-be/` recover by itself?",
			"A new frontend pod starts while the `backend` Service does not exist. What happens to its nginx with the static configuration? Does the dashboard keep working?",
		},
		Steps: []workshop.Step{
			{
				Name: "mount the static template",
				Do:   []workshop.Action{staticTemplate, actions.RolledOut{Workload: workshop.Frontend}},
				Expect: []workshop.Expectation{
					workshop.Observed{Says: "nginx's `/my-be/` proxies to the backend's name literally (`proxy_pass http://backend.podpaths.svc.cluster.local:8080/;`)",
						Holds: nginxConfigHas("proxy_pass http://backend.podpaths.svc.cluster.local:8080/;")},
					workshop.Path{ID: report.IDNginxBackend, Is: workshop.Works, Why: "the name resolved when nginx started"},
				},
			},
			{
				Name:   "recreate the backend Service by hand",
				Do:     []workshop.Action{actions.DeleteService{Name: "backend"}, actions.CreateService{Name: "backend", From: "backend-sticky"}},
				Within: workshop.DNSWait,
				Expect: []workshop.Expectation{
					workshop.Observed{Says: "`frontend-backend-dns` works, at the new ClusterIP", Paths: []string{idDNS}, Holds: dnsAtClusterIP},
					workshop.Path{ID: report.IDNginxBackend, Is: workshop.FailsWith(report.ErrorHTTP, report.ErrorTimeout),
						Why: "nginx keeps sending to the old address: its connect waits 2 s, and the frontend's call times out with it (or nginx answers 504)"},
					workshop.Path{ID: report.IDOutsideWhoami, Is: workshop.FailsWith(report.ErrorHTTP), Why: "`make check`'s `/my-be/` lines get 504"},
					workshop.Path{ID: report.IDOutsidePeers, Is: workshop.FailsWith(report.ErrorHTTP)},
					workshop.Path{ID: idEnv, Is: workshop.FailsWith(report.ErrorTimeout, report.ErrorRefused, report.ErrorOther), Why: "as in exercise 4, the variable holds the old address"},
					workshop.Path{ID: idStatic, Is: workshop.FailsWith(report.ErrorTimeout, report.ErrorRefused, report.ErrorOther), Why: "and so does the copy in `PODPATHS_BACKEND_ADDR`"},
				},
			},
			{
				Name: "restart the frontend",
				Do:   []workshop.Action{actions.Restart{Workload: workshop.Frontend}, actions.RolledOut{Workload: workshop.Frontend}},
				Expect: []workshop.Expectation{
					workshop.Path{ID: report.IDNginxBackend, Is: workshop.Works, Why: "the new nginx resolved the name again"},
					workshop.Path{ID: report.IDOutsideWhoami, Is: workshop.Works},
					workshop.Path{ID: report.IDOutsidePeers, Is: workshop.Works},
					workshop.Path{ID: idEnv, Is: workshop.Works, Why: "the new pods have the new address"},
					workshop.Path{ID: idStatic, Is: workshop.FailsWith(report.ErrorTimeout, report.ErrorRefused, report.ErrorOther), Why: "a copy in the configuration never follows"},
				},
			},
			{
				Name:   "delete the Service, and wait until DNS has forgotten it",
				Do:     []workshop.Action{actions.DeleteService{Name: "backend"}},
				Within: workshop.DNSWait,
				Expect: append([]workshop.Expectation{
					workshop.Path{ID: idDNS, Is: workshop.FailsWith(report.ErrorDNS)},
					workshop.Path{ID: idEnv, Is: workshop.FailsWith(report.ErrorTimeout, report.ErrorRefused, report.ErrorOther)},
					workshop.Path{ID: idStatic, Is: workshop.FailsWith(report.ErrorTimeout, report.ErrorRefused, report.ErrorOther)},
					workshop.Path{ID: report.IDNginxBackend, Is: workshop.FailsWith(report.ErrorHTTP, report.ErrorTimeout)},
				}, noBackendReached()...),
			},
			{
				Name: "restart the frontend without the Service",
				Do:   []workshop.Action{actions.Restart{Workload: workshop.Frontend}},
				Expect: []workshop.Expectation{
					workshop.Observed{Says: "the new pod's nginx exits at start with `host not found in upstream`, naming the backend's host, and restarts (`CrashLoopBackOff`)",
						Holds: nginxCrashes("host not found in upstream")},
					workshop.Path{ID: report.IDNginxFrontend, Is: workshop.Works,
						Why: "the dashboard still loads: the rollout stalls, and with `maxUnavailable: 0` the old pods keep serving"},
				},
			},
		},
		Explain: `With a literal host in ` + "`proxy_pass`" + `, nginx resolves the name once, while it loads its
configuration, with the system resolver. If the name does not exist, nginx refuses to start. If it later changes,
nginx keeps the old address. With a variable in ` + "`proxy_pass`" + ` (the default template), nginx resolves at
request time through ` + "`resolver`" + ` (the cluster DNS, taken from the pod's ` + "`resolv.conf`" + ` by the image's
entrypoint), caching each answer for ` + "`valid=5s`" + `: its pods start without the Service, answer 502 until it exists,
and follow a recreated Service with no restart (exercise 4). That resolver ignores the search list, so the name must
be fully qualified. See [paths.md](paths.md#nginx---backend-my-be) and
https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_pass.`,
		Notes: []string{"By hand, the switch is the `key` of the `nginx-templates` item: [nginx/README.md](../nginx/README.md) " +
			"and [deploy/README.md](../deploy/README.md#combining-components) describe it. Under docker compose the same " +
			"exercise works with `PODPATHS_NGINX_TEMPLATE=static.conf.template` ([compose.md](compose.md#the-workshops-nginx-exercise-under-compose))."},
	}
}

// frontendPods lists the frontend pods.
func frontendPods(ctx context.Context, env *workshop.Env) ([]corev1.Pod, error) {
	return env.Pods(ctx, "app.kubernetes.io/name=frontend")
}

// nginxConfigHas expects every running frontend pod's rendered nginx
// config to contain line.
func nginxConfigHas(line string) holds {
	return func(ctx context.Context, env *workshop.Env, _ *workshop.State) error {
		pods, err := frontendPods(ctx, env)
		if err != nil {
			return err
		}
		for _, p := range pods {
			if p.DeletionTimestamp != nil {
				continue
			}
			res, err := env.Clients.Exec(ctx, p.Namespace, p.Name, "nginx", []string{"cat", "/etc/nginx/conf.d/default.conf"})
			if err != nil {
				return err
			}
			if !strings.Contains(string(res.Stdout), line) {
				return fmt.Errorf("%s's nginx config has no %q", p.Name, line)
			}
		}
		return nil
	}
}

// nginxCrashes expects a frontend pod whose nginx exited at start and
// whose log says why. It reads the log of the attempt that exited and of
// the current one: while the kubelet restarts the container, either may be
// the one still on disk, and every attempt fails the same way.
func nginxCrashes(why string) holds {
	return func(ctx context.Context, env *workshop.Env, _ *workshop.State) error {
		pods, err := frontendPods(ctx, env)
		if err != nil {
			return err
		}
		var said []string
		for _, p := range pods {
			for _, c := range p.Status.ContainerStatuses {
				if c.Name != "nginx" || c.RestartCount == 0 {
					continue
				}
				log := nginxLogs(ctx, env, p)
				if strings.Contains(log, why) {
					return nil
				}
				said = append(said, fmt.Sprintf("%s's nginx restarted, but its log does not say %q: %q", p.Name, why, lastLine(log)))
			}
		}
		if len(said) > 0 {
			return errors.New(strings.Join(said, "; "))
		}
		return errors.New("no frontend pod's nginx has restarted yet")
	}
}

// nginxLogs returns what a pod's nginx container logged, in its previous
// attempt and in the current one; a log that cannot be read adds nothing.
func nginxLogs(ctx context.Context, env *workshop.Env, p corev1.Pod) string {
	var b strings.Builder
	for _, previous := range []bool{true, false} {
		opts := &corev1.PodLogOptions{Container: "nginx", Previous: previous}
		raw, err := env.Clients.Kube.CoreV1().Pods(p.Namespace).GetLogs(p.Name, opts).DoRaw(ctx)
		if err == nil {
			b.Write(raw)
		}
	}
	return b.String()
}

// lastLine is the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
