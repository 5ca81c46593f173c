package api

import (
	"github.com/go-chi/chi/v5"

	"github.com/podpaths/podpaths/platform/serve"
	"github.com/podpaths/podpaths/services/frontend/internal/dashboard"
)

// addRoutes is the one list of the frontend's paths.
// The dashboard, the report and the spread call the backends, so they share
// one limit; a busy dashboard is a page that retries by itself.
func addRoutes(r chi.Router, deps Deps) {
	lim, busy := deps.Limiter, serve.Busy(deps.Limiter)
	r.Get("/", lim.Limit(handleDashboard(deps), dashboard.Busy(lim.Size())).ServeHTTP)
	r.Handle("/static/*", dashboard.Assets())
	r.Get("/whoami", serve.Whoami(deps.Self))
	r.Get("/api/paths", lim.Limit(handlePaths(deps), busy).ServeHTTP)
	r.Get("/api/spread", lim.Limit(handleSpread(deps), busy).ServeHTTP)
	r.Get("/api/links", handleLinks(deps.Links))
}
