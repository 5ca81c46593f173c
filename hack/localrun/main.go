// Command localrun runs backend, sidecar and frontend on this machine, wired
// the way they would be in pods, with no cluster and no Docker:
//
//   - each "pod" gets its own loopback address (127.0.10.1, .2, .3), so the
//     backend and its sidecar share it as containers share a pod's IP;
//   - a loopback DNS server answers the cluster names CoreDNS would;
//   - a small proxy plays kube-proxy for the backend Service's virtual IP,
//     picking a backend per connection, as kube-proxy does;
//   - the frontend gets the BACKEND_SERVICE_HOST/PORT variables the kubelet
//     would inject;
//   - an endpoints loop drops a backend that stops being ready from DNS and
//     from the virtual IP, as the EndpointSlice controller would.
//
// `make run` builds the binaries and starts this; Ctrl-C stops everything.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	opts := defaultOptions()
	flag.StringVar(&opts.BinDir, "bin", opts.BinDir, "directory with the backend, sidecar and frontend binaries")
	flag.StringVar(&opts.LogDir, "logs", opts.LogDir, "directory for each process's log")
	flag.StringVar(&opts.Frontend, "frontend", opts.Frontend, "address of the frontend (the dashboard)")
	flag.IntVar(&opts.Backends, "backends", opts.Backends, "number of backend pods")
	flag.StringVar(&opts.Nginx, "nginx", opts.Nginx, `nginx binary in front of the frontend ("" finds one, "none" runs without)`)
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, opts, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "localrun: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, opts Options, stdout io.Writer) error {
	lab, err := Start(ctx, opts)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "podpaths is running on this machine (logs in %s)\n"+
		"  dashboard:   http://%s/\n  path report: http://%s/api/paths\n%s\nPress Ctrl-C to stop.\n",
		opts.LogDir, opts.Frontend, opts.Frontend, lab.nginxLine())
	if err == nil {
		<-ctx.Done()
	}
	return errors.Join(err, lab.Stop())
}
