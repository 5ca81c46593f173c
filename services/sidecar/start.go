package main

import (
	"context"

	"github.com/podpaths/podpaths/platform/serve"
	"github.com/podpaths/podpaths/services/sidecar/internal/api"
)

// start serves the sidecar's API (serve.StartFunc).
func start(ctx context.Context, svc *serve.Service, _ Config, _ []string) error {
	app := api.NewServer(svc.Logger, svc.Metrics, svc.Self)

	svc.Logger.Info("starting", "version", version, "pod", svc.Self.Pod)
	return svc.Serve(ctx, app)
}
