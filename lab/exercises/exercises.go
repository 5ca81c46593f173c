// Package exercises holds the workshop's exercises, one file each, as
// definitions that the lab runs (`make exercise`), the e2e suite checks in
// CI, and docs/workshop.md is generated from.
package exercises

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podpaths/podpaths/lab/exercises/drills"
	"github.com/podpaths/podpaths/lab/workshop"
	"github.com/podpaths/podpaths/platform/report"
)

// All returns the exercises in workshop order, the drills last.
func All() []workshop.Exercise {
	return append([]workshop.Exercise{
		scale(), affinity(), serviceLinks(), recreate(), nginxStatic(), internalLocal(), externalLocal(),
		networkPolicy(), sidecarOrder(), clusterIPFromOutside(),
	}, drills.All()...)
}

// Path ids the exercises name often.
var (
	idEnv    = report.FrontendBackendID(report.MethodEnv)
	idDNS    = report.FrontendBackendID(report.MethodDNS)
	idStatic = report.FrontendBackendID(report.MethodStatic)
)

// backendPods lists the names of the backend pods, sorted.
func backendPods(ctx context.Context, env *workshop.Env) ([]string, error) {
	pods, err := env.Clients.Kube.CoreV1().Pods(env.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=backend"})
	if err != nil {
		return nil, err
	}
	var names []string
	for _, p := range pods.Items {
		names = append(names, p.Name)
	}
	slices.Sort(names)
	return names, nil
}

// clusterIP is a Service's ClusterIP.
func clusterIP(ctx context.Context, env *workshop.Env, name string) (string, error) {
	svc, err := env.Clients.Kube.CoreV1().Services(env.Namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	return svc.Spec.ClusterIP, nil
}

// spreadDetail is the detail `make check` prints for the spread.
func spreadDetail(s *workshop.State) (string, error) {
	checks := s.Paths(report.IDSpread)
	if len(checks) == 0 {
		return "", fmt.Errorf("no %s check", report.IDSpread)
	}
	return checks[0].Detail, nil
}

func contains(s, sub string) error {
	if !strings.Contains(s, sub) {
		return fmt.Errorf("%q has no %q", s, sub)
	}
	return nil
}

//go:embed intro.md
var intro string

//go:embed outro.md
var outro string

// Markdown is docs/workshop.md.
func Markdown() string { return workshop.Markdown(intro, outro, All()) }

// links reads the frontend's /api/links through the lab's entry.
func links(ctx context.Context, env *workshop.Env) (map[string]string, error) {
	res, err := env.Get(ctx, "/api/links")
	if err != nil {
		return nil, err
	}
	var l report.Links
	if err := json.Unmarshal(res.Body, &l); err != nil {
		return nil, fmt.Errorf("decode /api/links: %w", err)
	}
	out := map[string]string{}
	for _, link := range l.Links {
		out[link.Name] = link.Value
	}
	return out, nil
}

// spread asks the frontend for a spread through the lab's entry.
func spread(ctx context.Context, env *workshop.Env, n int, keepAlive bool) (report.Spread, error) {
	res, err := env.Get(ctx, fmt.Sprintf("/api/spread?n=%d&keepalive=%t", n, keepAlive))
	if err != nil {
		return report.Spread{}, err
	}
	return report.DecodeSpread(res.Body)
}

// Holds is the signature of an Observed expectation's check.
type holds = func(context.Context, *workshop.Env, *workshop.State) error

// noBackendReached are the consequences of a frontend that reaches no
// backend through its Service: what a backend would have reported (its
// sidecar, its siblings) cannot be reported, and nginx's /my-be/ and the
// spreads fail too.
func noBackendReached() []workshop.Expectation {
	return []workshop.Expectation{
		workshop.Path{ID: report.IDSidecar, Is: workshop.FailsWith(report.ErrorOther), Why: "no backend answered, so nobody could report this path"},
		workshop.Observed{Says: "the sibling rows are gone; in their place one `backend-backend-headless` row fails with `other`",
			Paths: []string{"backend-backend-*"}, Holds: onlySiblingsRowFails},
		workshop.Path{ID: report.IDOutsidePeers, Is: workshop.FailsWith(report.ErrorHTTP), Why: "`make check`'s `/my-be/` lines end with `502 Bad Gateway` or `504 Gateway Time-out`"},
		workshop.Path{ID: report.IDOutsideWhoami, Is: workshop.FailsWith(report.ErrorHTTP)},
		workshop.Path{ID: report.IDSpread, Prefix: true, Is: workshop.FailsWith(report.ErrorOther), Why: "the spreads' calls fail"},
	}
}

// backendReachedAgain are the same rows, answered again.
func backendReachedAgain() []workshop.Expectation {
	return []workshop.Expectation{
		workshop.Path{ID: report.IDSidecar, Is: workshop.Works},
		workshop.Observed{Says: "every backend that reports its siblings lists 3 again", Paths: []string{"backend-backend-*"}, Holds: workshop.SiblingsAre(3)},
		workshop.Path{ID: report.IDOutsidePeers, Is: workshop.Works},
		workshop.Path{ID: report.IDOutsideWhoami, Is: workshop.Works},
		workshop.Path{ID: report.IDSpread, Prefix: true, Is: workshop.Works},
	}
}

func onlySiblingsRowFails(ctx context.Context, env *workshop.Env, s *workshop.State) error {
	if n := len(s.SiblingsByPod()); n > 0 {
		return fmt.Errorf("%d backends still list siblings", n)
	}
	return workshop.Path{ID: report.IDSiblings, Is: workshop.FailsWith(report.ErrorOther)}.Check(ctx, env, s)
}
