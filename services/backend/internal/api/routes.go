package api

import (
	"github.com/go-chi/chi/v5"
)

// addRoutes is the one list of the backend's paths.
func addRoutes(r chi.Router, deps Deps) {
	r.Get("/whoami", handleWhoami(deps.Self))
	r.Get("/api/whoami", handleWhoamiAnswer(deps))
	r.Get("/api/peers", handlePeers(deps))
}
