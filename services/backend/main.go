// Command backend is the API behind the frontend. It runs in a StatefulSet pod
// next to its sidecar, which it calls over localhost, and finds its siblings
// through the headless Service.
package main

import (
	"context"
	"io"
	"os"

	"github.com/podpaths/podpaths/platform/discovery"
	"github.com/podpaths/podpaths/platform/probe"
	"github.com/podpaths/podpaths/platform/serve"
	"github.com/podpaths/podpaths/services/backend/internal/api"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "dev"

const service = "backend"

func main() {
	os.Exit(serve.Main(service, run))
}

func run(ctx context.Context, environ []string, stdout io.Writer) error {
	cfg, err := loadConfig(environ)
	if err != nil {
		return err
	}
	svc := serve.NewService(service, version, cfg.Common, stdout)
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
