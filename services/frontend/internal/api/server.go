// Package api holds the frontend's HTTP handlers: the dashboard and the JSON
// API behind it.
package api

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/podpaths/podpaths/platform/discovery"
	"github.com/podpaths/podpaths/platform/report"
	"github.com/podpaths/podpaths/platform/serve"
	"github.com/podpaths/podpaths/services/frontend/internal/dashboard"
	"github.com/podpaths/podpaths/services/frontend/internal/paths"
)

// Deps is what the handlers need.
type Deps struct {
	Self     report.Identity
	Reporter *paths.Reporter
	// Links are the service-link variables the pod started with.
	Links []report.Link
	// Backend finds the backend Service for /api/spread.
	Backend discovery.Peer
	// PeerTimeout bounds each call; ReportTimeout bounds a whole report.
	PeerTimeout, ReportTimeout time.Duration
	SpreadMax                  int
	// Limiter bounds the reports, spreads and pages made at once.
	Limiter   *serve.Limiter
	Dashboard *dashboard.Renderer
	Logger    *slog.Logger
}

// NewServer returns the frontend's app handler.
func NewServer(logger *slog.Logger, metrics *serve.HTTPMetrics, deps Deps) http.Handler {
	r := serve.NewRouter(logger, metrics)
	addRoutes(r, deps)
	return r
}
