package api

import (
	"github.com/go-chi/chi/v5"

	"github.com/podpaths/podpaths/platform/serve"
)

// addRoutes is the one list of the backend's paths.
func addRoutes(r chi.Router, deps Deps) {
	r.Get("/whoami", serve.Whoami(deps.Self))
	r.Get("/api/whoami", handleAPIWhoami(deps))
	r.Get("/api/peers", handlePeers(deps))
}
