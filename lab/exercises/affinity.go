package exercises

import (
	"context"
	"fmt"

	"github.com/podpaths/podpaths/lab/workshop"
	"github.com/podpaths/podpaths/lab/workshop/actions"
	"github.com/podpaths/podpaths/platform/report"
)

func affinity() workshop.Exercise {
	return workshop.Exercise{
		Slug:  "keepalive",
		Title: "Keep-alive and sessionAffinity",
		Goal:  "tell per-connection balancing, keep-alive and `sessionAffinity: ClientIP` apart.",
		Predict: []string{
			"30 calls through the `backend` ClusterIP, each on a new connection: how many pods answer? And 30 calls over one kept-alive connection?",
			"You ask one frontend for its report several times. Does `frontend-backend-sticky-dns` change pods?",
			"You put `sessionAffinity: ClientIP` on `backend` itself. What does the spread show, and what does `make check` say?",
		},
		Steps: []workshop.Step{
			{
				Name: "look at the spread",
				Do:   []workshop.Action{actions.Look{Cmd: `curl -s "$E/api/spread?n=30&keepalive=false" | jq -c '[.pods[] | "\(.pod)=\(.count)"]'` + "\n" + `curl -s "$E/api/spread?n=30&keepalive=true"  | jq -c '[.pods[] | "\(.pod)=\(.count)"]'`}},
				Expect: []workshop.Expectation{
					workshop.Observed{Says: "without keep-alive, the 30 calls spread over the 3 pods", Holds: spreadOver(false, 3)},
					workshop.Observed{Says: "with keep-alive, one pod answers all 30", Holds: spreadOver(true, 1)},
					workshop.Observed{Says: "each frontend's `frontend-backend-sticky-dns` names the same pod in report after report",
						Paths: []string{report.IDSticky}, Holds: stickyStays},
				},
			},
			{
				Name: "put sessionAffinity ClientIP on backend",
				Do: []workshop.Action{actions.Kustomize{Patches: []actions.Patch{{Body: `apiVersion: v1
kind: Service
metadata:
  name: backend
  namespace: podpaths
spec:
  sessionAffinity: ClientIP
  sessionAffinityConfig:
    clientIP:
      timeoutSeconds: 10800`}}}},
				Expect: []workshop.Expectation{
					workshop.Observed{Says: "the spread without keep-alive collapses to one pod per frontend pod", Holds: spreadOver(false, 1)},
					workshop.Path{ID: report.IDSpread, Prefix: true, Is: workshop.FailsWith(report.ErrorOther),
						Why: "`make check` expects new connections to spread: `20 calls without keep-alive all reached 1 pod(s) while 3 are ready`"},
					workshop.CheckPasses(false),
				},
			},
		},
		Explain: `kube-proxy chooses a pod when a connection opens, and never again for that connection. Keep-alive
therefore looks like stickiness from a single client, but it ends with the connection. ` + "`sessionAffinity: ClientIP`" + `
makes kube-proxy remember the client's IP (for ` + "`timeoutSeconds`" + `, 10800 in ` + "`backend-sticky`" + `), so it
holds across reconnects. The client here is the frontend pod's IP, so every call from one frontend pod lands on one
backend pod. ` + "`make check`" + ` treats that as a failure, because it expects new connections to spread. The same
effect hits real systems: long-lived HTTP/2 or gRPC connections pin clients to pods, and with affinity, every user
behind one NAT address lands on one pod. See
https://kubernetes.io/docs/reference/networking/virtual-ips/#session-affinity.`,
		Notes: []string{"The affinity goes on with both fields, `sessionAffinity` and `sessionAffinityConfig`, applied " +
			"as the lab's field manager: applying the overlay again removes both, and a Service with " +
			"`sessionAffinity: None` must not keep a `sessionAffinityConfig`."},
	}
}

// spreadOver expects a spread of 30 calls to reach exactly n pods.
func spreadOver(keepAlive bool, n int) holds {
	return func(ctx context.Context, env *workshop.Env, _ *workshop.State) error {
		s, err := spread(ctx, env, 30, keepAlive)
		if err != nil {
			return err
		}
		if s.Failed() > 0 || len(s.Pods) != n {
			return fmt.Errorf("30 calls (keepalive=%t) reached %d pods, %d failed", keepAlive, len(s.Pods), s.Failed())
		}
		return nil
	}
}

// stickyStays asks for reports until each frontend has reported three times,
// and expects each one's sticky row to name one pod throughout.
func stickyStays(ctx context.Context, env *workshop.Env, _ *workshop.State) error {
	seen := map[string]map[string]bool{}
	count := map[string]int{}
	for range 12 {
		res, err := env.Get(ctx, "/api/paths")
		if err != nil {
			return err
		}
		rep, err := report.DecodeReport(res.Body)
		if err != nil {
			return err
		}
		for _, p := range rep.Paths {
			if p.ID == report.IDSticky && p.AnsweredBy != nil {
				if seen[rep.Reporter] == nil {
					seen[rep.Reporter] = map[string]bool{}
				}
				seen[rep.Reporter][p.AnsweredBy.Pod] = true
				count[rep.Reporter]++
			}
		}
	}
	for reporter, pods := range seen {
		if len(pods) != 1 {
			return fmt.Errorf("%s's sticky row named %d pods in %d reports", reporter, len(pods), count[reporter])
		}
	}
	if len(seen) == 0 {
		return fmt.Errorf("no report had an answered %s row", report.IDSticky)
	}
	return nil
}
