// Package api holds the backend's HTTP handlers.
package api

import (
	"log/slog"
	"net/http"

	"github.com/podpaths/podpaths/platform/discovery"
	"github.com/podpaths/podpaths/platform/probe"
	"github.com/podpaths/podpaths/platform/report"
	"github.com/podpaths/podpaths/platform/serve"
)

// Deps is what the handlers need.
type Deps struct {
	Self   report.Identity
	Prober *probe.Prober
	// Sidecar is the sidecar's loopback address.
	Sidecar string
	// Siblings finds the other backend pods through the headless Service.
	Siblings discovery.Peer
	Metrics  *probe.Metrics
}

// NewServer returns the backend's app handler.
func NewServer(logger *slog.Logger, metrics *serve.HTTPMetrics, deps Deps) http.Handler {
	r := serve.NewRouter(logger, metrics)
	addRoutes(r, deps)
	return r
}
