package api

import (
	"github.com/go-chi/chi/v5"

	"github.com/podpaths/podpaths/platform/serve"
	"github.com/podpaths/podpaths/services/frontend/internal/dashboard"
)

// addRoutes is the one list of the frontend's paths.
func addRoutes(r chi.Router, deps Deps) {
	r.Get("/", handleDashboard(deps))
	r.Handle("/static/*", dashboard.Assets())
	r.Get("/whoami", serve.Whoami(deps.Self))
	r.Get("/api/paths", handlePaths(deps))
	r.Get("/api/spread", handleSpread(deps))
	r.Get("/api/links", handleLinks(deps.Links))
}
