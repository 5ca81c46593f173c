package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/podpaths/podpaths/lab/internal/doctor"
	"github.com/podpaths/podpaths/lab/internal/kind"
	"github.com/podpaths/podpaths/lab/internal/local"
	"github.com/podpaths/podpaths/lab/internal/status"
	"github.com/podpaths/podpaths/lab/kube"
	"github.com/podpaths/podpaths/lab/matrix"
	"github.com/podpaths/podpaths/platform/probe"
)

// provider is a place the lab runs: kind, or the offline cluster of host
// processes (local). Every method is idempotent, so `up` and `down` can be run
// again after a failure.
type provider interface {
	// Name is the --provider value.
	Name() string
	// Overlay is the kustomize overlay to apply, relative to the root.
	Overlay() string
	Exists(ctx context.Context) (bool, error)
	// Create creates the cluster or reuses an existing one.
	Create(ctx context.Context) error
	// Delete removes the cluster and everything the lab started for it.
	Delete(ctx context.Context) error
	Kubeconfig(ctx context.Context) ([]byte, error)
	// LoadImages puts image archives into every node's container runtime.
	LoadImages(ctx context.Context, archives []string) error
	// StartLoadBalancer starts the controller that assigns LoadBalancer
	// addresses; false means none will, so nobody should wait for one.
	StartLoadBalancer(ctx context.Context) (bool, error)
	// LoadBalancerStatus is one line for `status`.
	LoadBalancerStatus() string
	// Localhost is where this machine reaches the NodePort besides the nodes.
	Localhost() (matrix.Localhost, error)
	// NodeIPsUnreachable says why this machine cannot reach the nodes'
	// InternalIPs, or "" when it can.
	NodeIPsUnreachable() string
	// OutsideClient dials from a client outside the cluster, or is nil,
	// with the reason there is none. It is this machine only when it has
	// no route to the Service range, so that a call sends nothing.
	OutsideClient() (probe.DialFunc, string)
	// ExternalLB is host:port of the load balancer in front of the nodes'
	// NodePorts, or "" with the reason there is none.
	ExternalLB() (string, string)
}

// hostCluster is a provider whose nodes run on this machine (local): its
// node IPs answer directly, and its kubeconfig is a file of its own.
type hostCluster interface {
	NodeURLs() []string
	KubeconfigFile() string
}

// deps are the outside world, replaced in tests.
type deps struct {
	newProvider func(g globals, log *slog.Logger) (provider, error)
	newClients  func(kubeconfig []byte) (kube.Clients, error)
	// dial is the matrix's dialer; nil dials for real.
	dial  probe.DialFunc
	getwd func() (string, error)
	// machine is what `doctor` looks at.
	machine doctor.Machine
}

func defaultDeps() deps {
	return deps{newProvider: newProvider, newClients: kube.FromKubeconfig, getwd: os.Getwd, machine: doctor.Host{}}
}

// underRoot resolves a path given relative to the repository root.
func underRoot(root, path string) string {
	if filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(root, path)
}

func newProvider(g globals, log *slog.Logger) (provider, error) {
	switch g.provider {
	case "kind":
		return kind.New(kind.Options{
			Name:              g.name,
			ConfigFile:        underRoot(g.root, g.kindConfig),
			Keep:              g.keep,
			StateDir:          filepath.Join(g.root, "_output", "lab"),
			CloudProviderKind: g.cloudProviderKind,
			WaitForReady:      waitForControlPlane,
			NodePort:          nodePort,
			ExternalLBImage:   g.externalLBImage,
			Logger:            log,
			Verbosity:         g.verbosity,
		}), nil
	case "local":
		return local.New(local.Options{
			Name:     g.name,
			Root:     g.root,
			NodePort: nodePort,
			Nodes:    g.nodes,
			// Parsed by the flags; up checks that they can work.
			OutsideRange:  g.outsideRange,
			NodeLinkRange: g.nodeLinkRange,
			Logger:        log,
		}), nil
	default:
		return nil, fmt.Errorf("%w: unknown provider %q (have: kind, local)", errUsage, g.provider)
	}
}

// app runs one command.
type app struct {
	g      globals
	d      deps
	log    *slog.Logger
	stdout io.Writer
	stderr io.Writer
}

func (a *app) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("lab "+name, flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	return fs
}

// parse parses a command's flags and refuses stray arguments.
func (a *app) parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return flagError(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(a.stderr, "%s: unexpected arguments %q\n", fs.Name(), fs.Args()) //nolint:errcheck // stderr is the last resort
		return errUsage
	}
	return nil
}

// clients builds API clients from an explicit kubeconfig file, or from the
// provider's cluster.
func (a *app) clients(ctx context.Context, p provider, kubeconfigFile string) (kube.Clients, error) {
	if kubeconfigFile != "" {
		raw, err := os.ReadFile(kubeconfigFile)
		if err != nil {
			return kube.Clients{}, fmt.Errorf("--kubeconfig: %w", err)
		}
		return a.d.newClients(raw)
	}
	raw, err := p.Kubeconfig(ctx)
	if err != nil {
		return kube.Clients{}, a.notUpHint(ctx, p, err)
	}
	return a.d.newClients(raw)
}

// notUpHint says how to create the lab when its cluster does not exist, and
// only then: a lab that is up has another reason to fail.
func (a *app) notUpHint(ctx context.Context, p provider, err error) error {
	if exists, xerr := p.Exists(ctx); xerr == nil && !exists {
		return fmt.Errorf("%w (the lab is not up: make %s-up creates it)", err, a.g.provider)
	}
	return err
}

func (a *app) down(ctx context.Context, args []string) error {
	if err := a.parse(a.flags("down"), args); err != nil {
		return err
	}
	p, err := a.d.newProvider(a.g, a.log)
	if err != nil {
		return err
	}
	return p.Delete(ctx)
}

func (a *app) status(ctx context.Context, args []string) error {
	fs := a.flags("status")
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig file (default: the provider's cluster)")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	p, err := a.d.newProvider(a.g, a.log)
	if err != nil {
		return err
	}
	if *kubeconfig == "" {
		exists, err := p.Exists(ctx)
		if err != nil {
			return err
		}
		if !exists {
			_, err := fmt.Fprintf(a.stdout, "%s cluster %q does not exist (make %s-up creates it)\n", p.Name(), a.g.name, p.Name())
			return err
		}
	}
	c, err := a.clients(ctx, p, *kubeconfig)
	if err != nil {
		return err
	}
	if err := status.Print(ctx, c.Kube, a.g.namespace, a.stdout); err != nil {
		return err
	}
	if _, err := fmt.Fprintf(a.stdout, "\n%s\n", p.LoadBalancerStatus()); err != nil {
		return err
	}
	return a.printURLs(ctx, c, p)
}
