// Command sidecar runs next to the backend in its pod. Its app port listens on
// loopback only, so the backend reaches it over localhost and no other pod can
// reach it at all, even at the pod's IP.
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

	"github.com/podpaths/podpaths/platform/identity"
	"github.com/podpaths/podpaths/platform/probe"
	"github.com/podpaths/podpaths/platform/serve"
	"github.com/podpaths/podpaths/services/sidecar/internal/api"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "dev"

const service = "sidecar"

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
	app := api.NewServer(logger, serve.NewHTTPMetrics(reg), self)

	logger.Info("starting", "version", version, "pod", self.Pod)
	return serve.ListenAndRun(ctx, logger, cfg.Shutdown(), &ready,
		serve.Servers{AppAddr: cfg.AppAddr, AdminAddr: cfg.AdminAddr, App: app, Registry: reg})
}
