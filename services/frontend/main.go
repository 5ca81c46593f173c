// Command frontend serves the podpaths dashboard and the path report. It sits
// behind nginx in its pod and listens on loopback only: the browser reaches it
// through nginx, never directly.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/podpaths/podpaths/platform/config"
	"github.com/podpaths/podpaths/platform/discovery"
	"github.com/podpaths/podpaths/platform/identity"
	"github.com/podpaths/podpaths/platform/probe"
	"github.com/podpaths/podpaths/platform/serve"
	"github.com/podpaths/podpaths/services/frontend/internal/api"
	"github.com/podpaths/podpaths/services/frontend/internal/dashboard"
	"github.com/podpaths/podpaths/services/frontend/internal/paths"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "dev"

const service = "frontend"

func main() {
	if code, ok := probe.HealthcheckMain(os.Args, os.Stderr); ok {
		os.Exit(code)
	}
	if err := run(context.Background(), os.Environ(), os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", service, err)
		os.Exit(1)
	}
}

func run(ctx context.Context, environ []string, stdout io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	cfg, err := loadConfig(environ)
	if err != nil {
		return err
	}
	logger := serve.NewLogger(stdout, cfg.LogLevel, service)
	reg := serve.NewRegistry(service, version)
	var ready atomic.Bool

	deps, err := newDeps(cfg, config.Environ(environ), reg)
	if err != nil {
		return err
	}
	deps.Logger = logger
	app := api.NewServer(logger, serve.NewHTTPMetrics(reg), deps)

	logger.Info("starting", "version", version, "pod", deps.Self.Pod, "methods", cfg.BackendMethods,
		"service_links", len(deps.Links))
	return serve.ListenAndRun(ctx, logger, cfg.Shutdown(), &ready,
		serve.Servers{AppAddr: cfg.AppAddr, AdminAddr: cfg.AdminAddr, App: app, Registry: reg})
}

// newDeps wires the frontend's clients. Calls whose callee calls further get
// the callee's timeout plus their own (see paths.Reporter), and a whole
// report gets one more on top, so it returns in bounded time even when every
// peer hangs.
func newDeps(cfg Config, env map[string]string, reg *prometheus.Registry) (api.Deps, error) {
	renderer, err := dashboard.New()
	if err != nil {
		return api.Deps{}, fmt.Errorf("dashboard: %w", err)
	}
	t := cfg.PeerTimeout
	self := identity.New(service, version, cfg.Env, time.Now())
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
			Prober:  &probe.Prober{Client: probe.NewClient(t, false), Timeout: t},
			Nested:  &probe.Prober{Client: probe.NewClient(3*t, false), Timeout: 3 * t},
			Backend: backend, Methods: cfg.methods,
			Sticky: cfg.StickyService, Local: cfg.LocalService, Nginx: nginxAddr(cfg.NginxAddr),
			Metrics: probe.NewMetrics(reg),
		},
		Links:         discovery.ServiceLinks(env),
		Backend:       backend,
		PeerTimeout:   t,
		ReportTimeout: 5 * t,
		SpreadMax:     cfg.SpreadMax,
		Dashboard:     renderer,
	}, nil
}

func nginxAddr(addr string) string {
	if addr == noNginx {
		return ""
	}
	return addr
}
