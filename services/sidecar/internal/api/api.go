// Package api holds the sidecar's HTTP handlers.
package api

import (
	"log/slog"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/podpaths/podpaths/platform/report"
	"github.com/podpaths/podpaths/platform/serve"
)

// NewServer returns the sidecar's app handler.
func NewServer(logger *slog.Logger, metrics *serve.HTTPMetrics, self report.Identity) http.Handler {
	r := serve.NewRouter(logger, metrics)
	addRoutes(r, self)
	return r
}

// addRoutes is the one list of the sidecar's paths.
func addRoutes(r chi.Router, self report.Identity) {
	r.Get("/whoami", serve.Whoami(self))
}
