package serve

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/podpaths/podpaths/platform/probe"
)

// RunFunc is a service's run function: it serves until ctx is done. environ
// and stdout are passed in so that tests never read the host's environment
// or write to its terminal.
type RunFunc = func(ctx context.Context, environ []string, stdout io.Writer) error

// Main is every service binary's main, but for os.Exit, which stays in main:
// `<binary> healthcheck URL` checks a running instance (images FROM scratch
// have no curl, so docker compose's healthchecks run the binary itself);
// anything else runs the service (Program) until SIGINT or SIGTERM, as the
// kubelet sends when it stops a pod. It returns the process's exit code.
func Main[C Config](name, version string, load func(environ []string) (C, error), start StartFunc[C]) int {
	if code, ok := probe.HealthcheckMain(os.Args, os.Stderr); ok {
		return code
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := Program(name, version, load, start)(ctx, os.Environ(), os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err) //nolint:errcheck // nowhere else to report
		return 1
	}
	return 0
}
