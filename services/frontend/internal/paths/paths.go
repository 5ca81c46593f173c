// Package paths builds the frontend's path report: every way the frontend and
// its neighbours reach each other, each tried for real.
package paths

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/podpaths/podpaths/platform/discovery"
	"github.com/podpaths/podpaths/platform/probe"
	"github.com/podpaths/podpaths/platform/report"
)

// Reporter tries every path and reports each.
type Reporter struct {
	Self report.Identity
	// Prober makes direct calls. Nested makes calls whose callee itself calls
	// further (backend /api/whoami and /api/peers), so it must wait longer than
	// the callee's own timeout, or a hanging sidecar would look like a hanging
	// backend.
	Prober, Nested *probe.Prober
	// Backend finds the backend by each of Methods.
	Backend discovery.Peer
	Methods []report.Method
	// Sticky, Local and Nearby are extra Services in front of the same
	// backend pods (sessionAffinity ClientIP, internalTrafficPolicy Local,
	// trafficDistribution PreferSameNode); empty when the deployment has
	// none.
	Sticky, Local, Nearby string
	// Alias is an ExternalName Service whose name is a CNAME for the
	// backend Service's; empty when the deployment has none.
	Alias string
	// Nginx is nginx's address in this pod; empty when nothing is in front.
	Nginx   string
	Metrics *probe.Metrics
}

var (
	errNoNginx   = fmt.Errorf("%w: no nginx in front of this frontend (PODPATHS_NGINX_ADDR=none)", discovery.ErrUnconfigured)
	errNoBackend = errors.New("no backend answered, so nobody could report this path")
)

// Report tries every path concurrently and returns them in a stable order.
// ctx bounds the whole report; each call also has its own timeout.
func (r *Reporter) Report(ctx context.Context) report.Report {
	var nginx, direct, headless, variants, siblings []report.Path
	var sidecar *report.Path
	var wg sync.WaitGroup
	wg.Go(func() { nginx = r.nginxPaths(ctx) })
	wg.Go(func() { direct, sidecar = r.backendPaths(ctx) })
	wg.Go(func() { headless = r.headlessPaths(ctx) })
	wg.Go(func() { variants = r.variantPaths(ctx) })
	wg.Go(func() { siblings = r.siblingPaths(ctx) })
	wg.Wait()
	// The variants are judged by where the backend pods run, which the
	// headless answers tell.
	judgeVariants(variants, headless, r.Self.Node)

	// The frontend's metrics count its own calls; the sidecar's and the
	// siblings' paths are the backends' calls, in the backends' metrics.
	for _, group := range [][]report.Path{nginx, direct, headless, variants} {
		for _, p := range group {
			r.Metrics.Observe(p)
		}
	}
	all := make([]report.Path, 0, len(nginx)+len(direct)+len(headless)+len(variants)+len(siblings)+1)
	all = append(all, nginx...)
	all = append(all, direct...)
	all = append(all, sidecarPath(sidecar, r.Self.Node))
	all = append(all, headless...)
	all = append(all, variants...)
	all = append(all, siblings...)
	return report.New(r.Self.Pod, time.Now(), all)
}

// base starts a path from this frontend to the backend.
func (r *Reporter) base(id string, m report.Method) report.Path {
	return report.Path{ID: id, From: "frontend", To: "backend", Method: m, FromNode: r.Self.Node, Expected: report.ExpectOK}
}

// nginxPaths checks the two paths that start in nginx: nginx to this frontend
// over the pod's loopback, and nginx's /my-be/ proxy to the backend Service.
func (r *Reporter) nginxPaths(ctx context.Context) []report.Path {
	toFrontend := report.Path{ID: report.IDNginxFrontend, From: "nginx", To: "frontend", Method: report.MethodLocalhost,
		Query: "nginx location / -> 127.0.0.1:3000", FromNode: r.Self.Node, Expected: report.ExpectOK}
	toBackend := report.Path{ID: report.IDNginxBackend, From: "nginx", To: "backend", Method: report.MethodDNS,
		Query: "nginx location /my-be/ -> the backend Service by name", FromNode: r.Self.Node, Expected: report.ExpectOK}
	if r.Nginx == "" {
		return []report.Path{probe.LookupFailed(toFrontend, errNoNginx), probe.LookupFailed(toBackend, errNoNginx)}
	}
	via := func(base report.Path, urlPath string) report.Path {
		t := discovery.Target{Query: base.Query, Addr: r.Nginx, Found: []string{r.Nginx}}
		return r.Prober.Call(ctx, base, t, urlPath)
	}
	return []report.Path{via(toFrontend, "/whoami"), via(toBackend, "/my-be/whoami")}
}

// backendPaths calls the backend's /api/whoami by each configured method
// except headless, all at once. Each answer carries the backend's own call to
// its sidecar, kept as that path's hop; the first one, in the order of the
// methods, is also reported on its own.
func (r *Reporter) backendPaths(ctx context.Context) (paths []report.Path, sidecar *report.Path) {
	methods := slices.DeleteFunc(slices.Clone(r.Methods), func(m report.Method) bool { return m == report.MethodHeadless })
	paths = make([]report.Path, len(methods))
	var wg sync.WaitGroup
	for i, m := range methods {
		wg.Go(func() { paths[i] = r.viaMethod(ctx, m) })
	}
	wg.Wait()
	for _, p := range paths {
		if len(p.Hops) > 0 {
			return paths, &p.Hops[0]
		}
	}
	return paths, nil
}

// viaMethod calls the backend's /api/whoami through the Service found by
// one method, keeping the sidecar call its answer carries as a hop.
func (r *Reporter) viaMethod(ctx context.Context, m report.Method) report.Path {
	base := r.base(report.FrontendBackendID(m), m)
	targets, err := r.Backend.Find(ctx, m)
	if err != nil {
		return probe.LookupFailed(base, err)
	}
	p, body := r.Nested.Fetch(ctx, base, targets[0], "/api/whoami")
	if sc, ok := report.DecodeSidecar(body); ok {
		p.Hops = []report.Path{sc}
	}
	return p
}

// sidecarPath is the backend's call to its sidecar as a backend reported it,
// or a failed path saying that no backend could report it.
func sidecarPath(sidecar *report.Path, node string) report.Path {
	if sidecar != nil {
		return *sidecar
	}
	p := report.Path{ID: report.IDSidecar, From: "backend", To: "sidecar",
		Method: report.MethodLocalhost, FromNode: node, Expected: report.ExpectOK}
	probe.Failed(&p, errNoBackend)
	return p
}

// headlessPaths calls every backend pod by its own per-pod DNS name.
func (r *Reporter) headlessPaths(ctx context.Context) []report.Path {
	if !slices.Contains(r.Methods, report.MethodHeadless) {
		return nil
	}
	targets, err := r.Backend.Find(ctx, report.MethodHeadless)
	if err != nil {
		return []report.Path{probe.LookupFailed(r.base(report.IDHeadless, report.MethodHeadless), err)}
	}
	paths := make([]report.Path, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Go(func() {
			paths[i] = r.Prober.Call(ctx, r.base(report.HeadlessID(t.Pod), report.MethodHeadless), t, "/whoami")
		})
	}
	wg.Wait()
	return paths
}

// variantPaths calls the extra Services in front of the backend pods, all
// at once.
func (r *Reporter) variantPaths(ctx context.Context) []report.Path {
	var calls []func() report.Path
	for _, v := range []struct{ id, service string }{
		{report.IDSticky, r.Sticky}, {report.IDLocal, r.Local}, {report.IDNearby, r.Nearby},
	} {
		if v.service != "" {
			calls = append(calls, func() report.Path { return r.viaService(ctx, v.id, v.service) })
		}
	}
	if r.Alias != "" {
		calls = append(calls, func() report.Path { return r.viaAlias(ctx) })
	}
	paths := make([]report.Path, len(calls))
	var wg sync.WaitGroup
	for i, call := range calls {
		wg.Go(func() { paths[i] = call() })
	}
	wg.Wait()
	return paths
}

// judgeVariants sets what the variants through node-aware Services may do,
// once the headless answers tell which nodes run a backend pod.
// internalTrafficPolicy Local only routes to endpoints on the caller's own
// node, so that path must fail when no backend pod runs on this node.
func judgeVariants(variants, headless []report.Path, node string) {
	for i := range variants {
		switch variants[i].ID {
		case report.IDLocal:
			variants[i].Expected = localExpectation(headless, node)
		case report.IDNearby:
			judgeNearby(&variants[i], headless, node)
		}
	}
}

// viaAlias calls the backend through the ExternalName Service: DNS answers
// its name with a CNAME for the backend Service's name, and then that
// name's ClusterIP. Nothing else is involved: no proxy, no port mapping.
func (r *Reporter) viaAlias(ctx context.Context) report.Path {
	base := r.base(report.IDAlias, report.MethodDNS)
	name := discovery.ServiceName(r.Alias, r.Backend.Namespace, r.Backend.Domain)
	t, err := discovery.FromAlias(ctx, r.Backend.Resolver, name, r.Backend.Port)
	if err != nil {
		return probe.LookupFailed(base, err)
	}
	return r.Prober.Call(ctx, base, t, "/whoami")
}

// judgeNearby fails a call through a PreferSameNode Service that another
// node answered while the headless answers show a backend on node: kube-proxy
// must prefer it. With none on node, any answer is the fallback working.
func judgeNearby(p *report.Path, headless []report.Path, node string) {
	if !p.OK || p.AnsweredBy == nil || p.AnsweredBy.Node == node {
		return
	}
	for _, h := range headless {
		if h.AnsweredBy != nil && h.AnsweredBy.Node == node {
			p.OK, p.ErrorKind = false, report.ErrorOther
			p.Error = fmt.Sprintf("trafficDistribution PreferSameNode: %s on %s answered, while %s runs on this node (%s)",
				p.AnsweredBy.Pod, p.AnsweredBy.Node, h.AnsweredBy.Pod, node)
			return
		}
	}
}

func (r *Reporter) viaService(ctx context.Context, id, service string) report.Path {
	peer := r.Backend
	peer.Service = service
	base := r.base(id, report.MethodDNS)
	targets, err := peer.Find(ctx, report.MethodDNS)
	if err != nil {
		return probe.LookupFailed(base, err)
	}
	return r.Prober.Call(ctx, base, targets[0], "/whoami")
}

// localExpectation says whether a Service with internalTrafficPolicy Local
// should answer a client on node: only if a backend pod runs there. Without
// headless answers it cannot tell, and expects success.
func localExpectation(headless []report.Path, node string) report.Expectation {
	known := false
	for _, p := range headless {
		if p.AnsweredBy == nil {
			continue
		}
		known = true
		if p.AnsweredBy.Node == node {
			return report.ExpectOK
		}
	}
	if known {
		return report.ExpectFail
	}
	return report.ExpectOK
}

// siblingPaths asks a backend for its own headless calls to its siblings
// (backend /api/peers), through the first method that reaches a backend.
func (r *Reporter) siblingPaths(ctx context.Context) []report.Path {
	for _, m := range r.Methods {
		if m == report.MethodHeadless {
			continue
		}
		targets, err := r.Backend.Find(ctx, m)
		if err != nil {
			continue
		}
		_, body := r.Nested.Fetch(ctx, report.Path{}, targets[0], "/api/peers")
		if peers, err := report.DecodeReport(body); err == nil {
			return peers.Paths
		}
	}
	p := report.Path{ID: report.IDSiblings, From: "backend", To: "backend",
		Method: report.MethodHeadless, Expected: report.ExpectOK}
	probe.Failed(&p, errNoBackend)
	return []report.Path{p}
}
