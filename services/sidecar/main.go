// Command sidecar runs next to the backend in its pod. Its app port listens on
// loopback only, so the backend reaches it over localhost and no other pod can
// reach it at all, even at the pod's IP.
package main

import (
	"context"
	"io"
	"os"

	"github.com/podpaths/podpaths/platform/serve"
	"github.com/podpaths/podpaths/services/sidecar/internal/api"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "dev"

const service = "sidecar"

func main() {
	os.Exit(serve.Main(service, run))
}

func run(ctx context.Context, environ []string, stdout io.Writer) error {
	cfg, err := loadConfig(environ)
	if err != nil {
		return err
	}
	svc := serve.NewService(service, version, cfg.Common, stdout)
	app := api.NewServer(svc.Logger, svc.Metrics, svc.Self)

	svc.Logger.Info("starting", "version", version, "pod", svc.Self.Pod)
	return svc.Serve(ctx, app)
}
