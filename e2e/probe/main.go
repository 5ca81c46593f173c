// Command probe is the e2e suite's client inside the cluster. It runs in a
// pod of its own (image localhost/podpaths/probe, built FROM scratch) and the
// suite execs it to see the cluster from there:
//
//	probe get URL [--count N] [--no-keepalive] [--timeout D]
//	probe lookup NAME
//	probe srv _http._tcp.NAME
//	probe env
//	probe sleep
//
// See package probecmd for the output.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/podpaths/podpaths/e2e/internal/probecmd"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	code := probecmd.Run(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
