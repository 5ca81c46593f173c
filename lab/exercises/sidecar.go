package exercises

import (
	"context"
	"errors"
	"fmt"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podpaths/podpaths/lab/workshop"
	"github.com/podpaths/podpaths/lab/workshop/actions"
)

func sidecarOrder() workshop.Exercise {
	return workshop.Exercise{
		Slug:  "native-sidecar",
		Title: "Native vs classic sidecar",
		Goal:  "see the start and stop order of a sidecar container, and when it matters.",
		Predict: []string{
			"On SIGTERM, backend keeps serving for 10 s (its drain delay) and the classic sidecar for 5 s. What does backend's call to `127.0.0.1:9000` return during its last 5 s? And with a native sidecar?",
			"Which container starts first in each form?",
		},
		Steps: []workshop.Step{
			{
				Name: "delete backend-1 and watch its sidecar call (classic sidecar)",
				Do:   []workshop.Action{actions.WatchDelete{Pod: "backend-1"}, actions.RolledOut{Workload: workshop.Backend}},
				Expect: []workshop.Expectation{
					workshop.Watched{Pod: "backend-1", Says: "backend-1's call to its sidecar is `ok` at first, then `refused` while backend still drains, then backend stops answering: " +
						"the classic sidecar stopped first", Holds: func(seen []string) error { return sawBefore(seen, "sidecar=refused") }},
				},
			},
			{
				Name: "switch to a native sidecar",
				Do:   []workshop.Action{actions.Kustomize{Components: []string{"native-sidecar"}}, actions.RolledOut{Workload: workshop.Backend}},
				Expect: []workshop.Expectation{
					workshop.Observed{Says: "the sidecar is an init container with `restartPolicy: Always`, and it started before backend", Holds: sidecarStartsFirst},
					workshop.CheckPasses(true),
				},
			},
			{
				Name: "delete backend-1 and watch again",
				Do:   []workshop.Action{actions.WatchDelete{Pod: "backend-1"}, actions.RolledOut{Workload: workshop.Backend}},
				Expect: []workshop.Expectation{
					workshop.Watched{Pod: "backend-1", Says: "backend-1's sidecar call stays `ok` until backend stops answering: the kubelet stops the sidecar only after backend has exited",
						Holds: func(seen []string) error { return onlyThen(seen, "sidecar=ok") }},
				},
			},
		},
		Explain: `A native sidecar is an init container with ` + "`restartPolicy: Always`" + `. It starts before the app
containers and keeps running beside them. On shutdown it is stopped after them. A classic sidecar is just another
container, so it gets SIGTERM at the same time as the app. If it stops faster than the app drains, the app loses it
mid-drain: in the base, the sidecar drains 5 s and backend 10 s, so for the last 5 s backend serves without it (its
` + "`/readyz`" + ` has already turned it out of the Services, so only callers that go to the pod directly notice). The
native form removes the race, and ` + "`terminationGracePeriodSeconds: 45`" + ` leaves room for both drains one after the
other. See https://kubernetes.io/docs/concepts/workloads/pods/sidecar-containers/.`,
	}
}

// sawBefore expects answer among what was seen before the pod stopped
// answering.
func sawBefore(seen []string, answer string) error {
	if !slices.Contains(seen, answer) || seen[len(seen)-1] != "no answer" {
		return errors.New("never " + answer + " before the end")
	}
	return nil
}

// onlyThen expects every answer to be answer, then the end.
func onlyThen(seen []string, answer string) error {
	for _, s := range seen[:len(seen)-1] {
		if s != answer {
			return errors.New("saw " + s)
		}
	}
	return nil
}

func sidecarStartsFirst(ctx context.Context, env *workshop.Env, _ *workshop.State) error {
	pod, err := env.Clients.Kube.CoreV1().Pods(env.Namespace).Get(ctx, "backend-0", metav1.GetOptions{})
	if err != nil {
		return err
	}
	if len(pod.Spec.InitContainers) == 0 || pod.Spec.InitContainers[0].Name != "sidecar" || pod.Spec.InitContainers[0].RestartPolicy == nil {
		return errors.New("backend-0 has no native sidecar")
	}
	var sidecar, backend metav1.Time
	for _, s := range pod.Status.InitContainerStatuses {
		if s.Name == "sidecar" && s.State.Running != nil {
			sidecar = s.State.Running.StartedAt
		}
	}
	for _, s := range pod.Status.ContainerStatuses {
		if s.Name == "backend" && s.State.Running != nil {
			backend = s.State.Running.StartedAt
		}
	}
	if sidecar.IsZero() || backend.IsZero() || backend.Before(&sidecar) {
		return fmt.Errorf("sidecar started %v, backend %v", sidecar, backend)
	}
	return nil
}
