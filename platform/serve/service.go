package serve

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/podpaths/podpaths/platform/config"
	"github.com/podpaths/podpaths/platform/identity"
	"github.com/podpaths/podpaths/platform/report"
)

// Service is what every podpaths service builds first in its run function,
// the same way in each: who it is, its JSON logger, its metrics registry,
// and the settings of its two servers.
type Service struct {
	Self     report.Identity
	Logger   *slog.Logger
	Registry *prometheus.Registry
	// Metrics are the HTTP server metrics for the app's router.
	Metrics *HTTPMetrics
	cfg     config.Common
}

// NewService builds the service name at version from its common
// configuration; it logs to stdout.
func NewService(name, version string, cfg config.Common, stdout io.Writer) *Service {
	reg := NewRegistry(name, version)
	return &Service{
		Self:     identity.New(name, version, cfg.Env, time.Now()),
		Logger:   NewLogger(stdout, cfg.LogLevel, name),
		Registry: reg,
		Metrics:  NewHTTPMetrics(reg),
		cfg:      cfg,
	}
}

// Serve binds the app server (app on the app address) and the admin server
// (/healthz, /readyz with checks, /metrics on the admin address), serves
// both until ctx ends, then drains and shuts them down.
func (s *Service) Serve(ctx context.Context, app http.Handler, checks ...Check) error {
	var ready atomic.Bool
	sd := Shutdown{DrainDelay: s.cfg.DrainDelay, Timeout: s.cfg.ShutdownTimeout}
	return ListenAndRun(ctx, s.Logger, sd, &ready, Servers{
		AppAddr: s.cfg.AppAddr, AdminAddr: s.cfg.AdminAddr, App: app, Registry: s.Registry, Checks: checks,
	})
}
