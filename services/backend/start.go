package main

import (
	"context"

	"github.com/podpaths/podpaths/platform/discovery"
	"github.com/podpaths/podpaths/platform/probe"
	"github.com/podpaths/podpaths/platform/serve"
	"github.com/podpaths/podpaths/services/backend/internal/api"
)

// start serves the backend's API (serve.StartFunc): its clients for the
// sidecar and its siblings, and a readiness check that needs the sidecar.
func start(ctx context.Context, svc *serve.Service, cfg Config, _ []string) error {
	deps := api.Deps{
		Self:    svc.Self,
		Prober:  &probe.Prober{Client: probe.NewClient(probe.ClientOptions{Timeout: cfg.PeerTimeout, KeepAlive: true}), Timeout: cfg.PeerTimeout},
		Sidecar: cfg.SidecarAddr,
		Siblings: discovery.Peer{
			Service: cfg.HeadlessService, Headless: cfg.HeadlessService, PortName: "http",
			Namespace: cfg.Namespace, Domain: cfg.Domain(),
			Resolver: discovery.NewResolver(cfg.DNSServer, cfg.PeerTimeout),
		},
		Metrics: probe.NewMetrics(svc.Registry),
	}
	app := api.NewServer(svc.Logger, svc.Metrics, deps)

	svc.Logger.Info("starting", "version", version, "pod", svc.Self.Pod, "sidecar", cfg.SidecarAddr)
	// A backend whose sidecar is gone cannot answer /api/whoami in full: it
	// reports not ready, and its Services stop sending it traffic.
	sidecar := serve.Check{Name: "sidecar", Check: func(ctx context.Context) error {
		return probe.Healthcheck(ctx, "http://"+cfg.SidecarAddr+"/whoami", cfg.PeerTimeout)
	}}
	return svc.Serve(ctx, app, sidecar)
}
