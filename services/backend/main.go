// Command backend is the API behind the frontend. It runs in a StatefulSet pod
// next to its sidecar, which it calls over localhost, and finds its siblings
// through the headless Service.
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

	"github.com/podpaths/podpaths/platform/discovery"
	"github.com/podpaths/podpaths/platform/identity"
	"github.com/podpaths/podpaths/platform/probe"
	"github.com/podpaths/podpaths/platform/serve"
	"github.com/podpaths/podpaths/services/backend/internal/api"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "dev"

const service = "backend"

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

	self := identity.New(service, version, cfg.Env, time.Now())
	deps := api.Deps{
		Self:    self,
		Prober:  &probe.Prober{Client: probe.NewClient(cfg.PeerTimeout, true), Timeout: cfg.PeerTimeout},
		Sidecar: cfg.SidecarAddr,
		Siblings: discovery.Peer{
			Service: cfg.HeadlessService, Headless: cfg.HeadlessService, PortName: "http",
			Namespace: cfg.Namespace, Domain: cfg.Domain(),
			Resolver: discovery.NewResolver(cfg.DNSServer, cfg.PeerTimeout),
		},
		Metrics: probe.NewMetrics(reg),
	}
	app := api.NewServer(logger, serve.NewHTTPMetrics(reg), deps)

	logger.Info("starting", "version", version, "pod", self.Pod, "sidecar", cfg.SidecarAddr)
	// A backend whose sidecar is gone cannot answer /api/whoami in full: it
	// reports not ready, and its Services stop sending it traffic.
	sidecar := serve.Check{Name: "sidecar", Check: func(ctx context.Context) error {
		return probe.Healthcheck(ctx, "http://"+cfg.SidecarAddr+"/whoami", cfg.PeerTimeout)
	}}
	return serve.ListenAndRun(ctx, logger, cfg.Shutdown(), &ready, serve.Servers{
		AppAddr: cfg.AppAddr, AdminAddr: cfg.AdminAddr, App: app, Registry: reg, Checks: []serve.Check{sidecar},
	})
}
