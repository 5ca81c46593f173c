package main

import (
	"context"
	"fmt"
	"time"

	"github.com/podpaths/podpaths/platform/config"
	"github.com/podpaths/podpaths/platform/discovery"
	"github.com/podpaths/podpaths/platform/probe"
	"github.com/podpaths/podpaths/platform/serve"
	"github.com/podpaths/podpaths/services/frontend/internal/api"
	"github.com/podpaths/podpaths/services/frontend/internal/dashboard"
	"github.com/podpaths/podpaths/services/frontend/internal/paths"
)

// start serves the dashboard and the path report (serve.StartFunc), and
// makes a report every PODPATHS_PROBE_INTERVAL, when set, for the metrics.
func start(ctx context.Context, svc *serve.Service, cfg Config, environ []string) error {
	deps, err := newDeps(cfg, config.Environ(environ), svc)
	if err != nil {
		return err
	}
	app := api.NewServer(svc.Logger, svc.Metrics, deps)

	svc.Logger.Info("starting", "version", version, "pod", svc.Self.Pod, "methods", cfg.BackendMethods,
		"service_links", len(deps.Links), "probe_interval", cfg.ProbeInterval.String())
	if cfg.ProbeInterval > 0 {
		go probeEvery(ctx, cfg.ProbeInterval, deps)
	}
	return svc.Serve(ctx, app)
}

// probeEvery makes a path report every interval until ctx ends, for the
// metrics: a scrape then shows each path's latency and failures without a
// dashboard open. One report at a time; a slow one delays the next.
func probeEvery(ctx context.Context, interval time.Duration, deps api.Deps) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		reportCtx, cancel := context.WithTimeout(ctx, deps.ReportTimeout)
		deps.Reporter.Report(reportCtx)
		cancel()
	}
}

// newDeps wires the frontend's clients. Calls whose callee calls further get
// the callee's timeout plus their own (see paths.Reporter), and a whole
// report gets one more on top, so it returns in bounded time even when every
// peer hangs.
func newDeps(cfg Config, env map[string]string, svc *serve.Service) (api.Deps, error) {
	renderer, err := dashboard.New()
	if err != nil {
		return api.Deps{}, fmt.Errorf("dashboard: %w", err)
	}
	t := cfg.PeerTimeout
	self := svc.Self
	backend := discovery.Peer{
		Service: cfg.BackendService, Headless: cfg.HeadlessService, PortName: "http", Port: cfg.BackendPort,
		Namespace: cfg.Namespace, Domain: cfg.Domain(), Static: cfg.BackendAddr, Environ: env,
		Resolver: discovery.NewResolver(cfg.DNSServer, t),
	}
	return api.Deps{
		Self: self,
		Reporter: &paths.Reporter{
			Self: self,
			// A new connection for every call: each report shows where
			// kube-proxy sends a connection now, not where an old kept-alive
			// one was pinned (/api/spread shows that difference on purpose).
			Prober:  &probe.Prober{Client: probe.NewClient(probe.ClientOptions{Timeout: t}), Timeout: t},
			Nested:  &probe.Prober{Client: probe.NewClient(probe.ClientOptions{Timeout: 3 * t}), Timeout: 3 * t},
			Backend: backend, Methods: cfg.methods,
			Sticky: cfg.StickyService, Local: cfg.LocalService, Nearby: cfg.NearbyService,
			Alias: cfg.AliasService, Nginx: nginxAddr(cfg.NginxAddr),
			Metrics: probe.NewMetrics(svc.Registry),
		},
		Links:         discovery.ServiceLinks(env),
		Backend:       backend,
		PeerTimeout:   t,
		ReportTimeout: 5 * t,
		SpreadMax:     cfg.SpreadMax,
		Limiter:       serve.NewLimiter(cfg.MaxReports),
		Dashboard:     renderer,
		Logger:        svc.Logger,
	}, nil
}

func nginxAddr(addr string) string {
	if addr == noNginx {
		return ""
	}
	return addr
}
