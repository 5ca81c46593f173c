package api

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/podpaths/podpaths/platform/discovery"
	"github.com/podpaths/podpaths/platform/identity"
	"github.com/podpaths/podpaths/platform/probe"
	"github.com/podpaths/podpaths/platform/report"
	"github.com/podpaths/podpaths/platform/serve"
)

func handleAPIWhoami(deps Deps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		serve.JSON(w, http.StatusOK, report.BackendWhoami{
			Whoami:  identity.ForRequest(deps.Self, r),
			Sidecar: callSidecar(r.Context(), deps),
		})
	}
}

// callSidecar calls the sidecar over loopback: containers in one pod share a
// network namespace, so 127.0.0.1 is the same for both.
func callSidecar(ctx context.Context, deps Deps) report.Path {
	base := report.Path{
		ID: report.IDSidecar, From: "backend", To: "sidecar",
		Method: report.MethodLocalhost, FromNode: deps.Self.Node,
	}
	t := discovery.Target{Query: deps.Sidecar, Addr: deps.Sidecar, Found: []string{deps.Sidecar}}
	p := deps.Prober.Call(ctx, base, t, "/whoami")
	deps.Metrics.Observe(p)
	return p
}

func handlePeers(deps Deps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		serve.JSON(w, http.StatusOK, report.New(deps.Self.Pod, time.Now(), callSiblings(r.Context(), deps)))
	}
}

// callSiblings finds every backend pod by the headless Service's SRV records
// and calls each by its own per-pod name, itself included: a StatefulSet pod
// reaching itself through its DNS name is a path worth showing too.
func callSiblings(ctx context.Context, deps Deps) []report.Path {
	targets, err := deps.Siblings.Find(ctx, report.MethodHeadless)
	base := report.Path{From: "backend", To: "backend", Method: report.MethodHeadless, FromNode: deps.Self.Node}
	if err != nil {
		base.ID = report.SiblingsLookupID(deps.Self.Pod)
		p := probe.LookupFailed(base, err)
		deps.Metrics.Observe(p)
		return []report.Path{p}
	}
	paths := make([]report.Path, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Go(func() {
			b := base
			b.ID = report.SiblingID(deps.Self.Pod, t.Pod)
			paths[i] = deps.Prober.Call(ctx, b, t, "/whoami")
			deps.Metrics.Observe(paths[i])
		})
	}
	wg.Wait()
	return paths
}
