package exercises

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podpaths/podpaths/lab/workshop"
	"github.com/podpaths/podpaths/lab/workshop/actions"
	"github.com/podpaths/podpaths/platform/report"
)

func networkPolicy() workshop.Exercise {
	look := actions.Look{Cmd: `IP=$(kubectl -n podpaths get pod backend-0 -o jsonpath='{.status.podIP}')
for port in 8080/whoami 9000/whoami 9090/readyz; do
  kubectl -n default exec podpaths-exercise-probe -- /probe get "http://$IP:$port" --timeout 2s | jq -c '.calls[0] | {ok, error_kind}'
done`}
	return workshop.Exercise{
		Slug:  "network-policy",
		Title: "NetworkPolicy, and the loopback-only port",
		Goal:  "see the difference between a closed port (`refused`) and a dropped packet (`timeout`), and what a default-deny policy changes.",
		Predict: []string{
			"From a pod outside the namespace, you call `backend-0` on 8080, 9000 (the sidecar, loopback-only) and 9090 (admin). Which answer, and how do the others fail?",
			"Which of them change once the `network-policy` component is applied? Does any row of the report change?",
		},
		Steps: []workshop.Step{
			{
				Name: "call backend-0 from a pod in another namespace",
				Do:   []workshop.Action{actions.StartProbe{}, look},
				Expect: []workshop.Expectation{
					workshop.Observed{Says: "8080 and 9090 answer", Holds: probeSees(map[int]report.ErrorKind{8080: report.ErrorNone, 9090: report.ErrorNone})},
					workshop.Observed{Says: "9000 fails at once, `refused`: the sidecar listens on `127.0.0.1` inside that pod, so nothing listens on the pod IP's port 9000",
						Holds: probeSees(map[int]report.ErrorKind{9000: report.ErrorRefused})},
				},
			},
			{
				Name: "add the network-policy component",
				Do:   []workshop.Action{actions.Kustomize{Components: []string{"network-policy"}}, look},
				Expect: []workshop.Expectation{
					workshop.WithPolicy{Expectation: workshop.Observed{Says: "all three fail after 2 s, `timeout`: the packets are dropped before they reach the pod, and the refused port now looks the same as the open ones",
						Holds: probeSees(map[int]report.ErrorKind{8080: report.ErrorTimeout, 9000: report.ErrorTimeout, 9090: report.ErrorTimeout})}},
					workshop.CheckPasses(true),
				},
			},
		},
		Explain: "`refused` needs something that answers: the pod's kernel with no socket on that port, or kube-proxy rejecting " +
			"a Service without endpoints. A policy drops packets silently, so the caller only sees time pass. A must-fail " +
			"path still fails under a policy, just with a different `error_kind`. The policies allow exactly the paths the " +
			"suite uses: DNS to CoreDNS (by its pods' named ports, 53 on kind and 1053 on the local cluster), any source to " +
			"nginx, frontend to backend, and backend to backend, all on the port named `http`. Loopback traffic (nginx to " +
			"frontend, backend to sidecar) never passes a policy. Kubelet probes come from the node, which is always " +
			"allowed. A port-forward connects from inside the pod: `kubectl -n podpaths port-forward pod/backend-0 " +
			"19000:9000` still reaches the sidecar. See https://kubernetes.io/docs/concepts/services-networking/network-policies/.",
		Notes: []string{"kind's network plugin, kindnet, enforces NetworkPolicy (since kind v0.24). The local cluster's " +
			"bridge plugin does not, so there the policies change nothing, and the runner says so instead of checking " +
			"the timeouts."},
	}
}

// probeSees calls backend-0's pod IP on each port from the probe pod and
// expects each error kind (ErrorNone: it answers).
func probeSees(want map[int]report.ErrorKind) holds {
	return func(ctx context.Context, env *workshop.Env, _ *workshop.State) error {
		pod, err := env.Clients.Kube.CoreV1().Pods(env.Namespace).Get(ctx, "backend-0", metav1.GetOptions{})
		if err != nil {
			return err
		}
		var errs []error
		for port, kind := range want {
			path := "/whoami"
			if port == 9090 {
				path = "/readyz"
			}
			url := "http://" + net.JoinHostPort(pod.Status.PodIP, strconv.Itoa(port)) + path
			c, err := env.ProbeGet(ctx, url)
			switch {
			case err != nil:
				errs = append(errs, err)
			case c.ErrorKind != kind:
				errs = append(errs, fmt.Errorf("port %d: %q, want %q", port, c.ErrorKind, kind))
			}
		}
		return errors.Join(errs...)
	}
}
