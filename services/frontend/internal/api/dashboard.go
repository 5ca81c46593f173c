package api

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"sync"

	"github.com/podpaths/podpaths/platform/identity"
	"github.com/podpaths/podpaths/platform/report"
	"github.com/podpaths/podpaths/platform/serve"
	"github.com/podpaths/podpaths/services/frontend/internal/dashboard"
)

// dashboardSpreadN is how many calls each dashboard histogram makes.
const dashboardSpreadN = 20

func handleDashboard(deps Deps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), deps.ReportTimeout)
		defer cancel()
		page := dashboard.Page{
			Title: "podpaths",
			Self:  deps.Self,
			Entry: entryOf(r),
			Links: deps.Links,
		}
		var wg sync.WaitGroup
		wg.Go(func() { page.Report = deps.Reporter.Report(ctx) })
		wg.Go(func() { page.Spreads = dashboardSpreads(ctx, deps) })
		wg.Wait()

		// Render into a buffer so a template error becomes a clean 500
		// instead of half a page.
		var buf bytes.Buffer
		if err := deps.Dashboard.Render(&buf, page); err != nil {
			deps.Logger.Error("render dashboard", "err", err)
			serve.Error(w, http.StatusInternalServerError, "could not render the dashboard")
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = buf.WriteTo(w) //nolint:errcheck // the client went away; nothing to do
	}
}

// entryOf describes how the browser's request reached the frontend. nginx
// adds X-Real-IP (the address it saw) and X-Forwarded-Host (the Host header
// the browser sent, port included), and the port tells the entry: the
// NodePort is 30080, the LoadBalancer listens on 80.
func entryOf(r *http.Request) dashboard.Entry {
	e := dashboard.Entry{Via: "direct", Host: r.Host}
	if ip := r.Header.Get("X-Real-IP"); ip != "" {
		if h := r.Header.Get("X-Forwarded-Host"); h != "" {
			e.Host = h
		}
		e.Via = entryVia(e.Host)
		e.ClientIPs = append(e.ClientIPs, dashboard.Hop{Hop: "nginx", IP: ip})
	}
	e.ClientIPs = append(e.ClientIPs, dashboard.Hop{Hop: "frontend", IP: identity.RemoteIP(r)})
	return e
}

// entryVia names the entry a browser used from the host:port it typed.
func entryVia(host string) string {
	_, port, err := net.SplitHostPort(host)
	switch {
	case err != nil || port == "80":
		return "port 80 (LoadBalancer) -> nginx"
	case port == nodePort:
		return "NodePort " + nodePort + " -> nginx"
	default:
		return "port " + port + " -> nginx"
	}
}

// nodePort is the frontend-nodeport Service's nodePort (deploy/base).
const nodePort = "30080"

func dashboardSpreads(ctx context.Context, deps Deps) []report.Spread {
	out := make([]report.Spread, 2)
	var wg sync.WaitGroup
	for i, keepAlive := range []bool{false, true} {
		wg.Go(func() { out[i] = runSpread(ctx, deps, spreadQuery{n: dashboardSpreadN, keepAlive: keepAlive}) })
	}
	wg.Wait()
	return out
}
