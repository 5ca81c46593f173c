// Command lab runs the podpaths lab: it brings up a cluster, deploys the
// suite, shows what runs, and checks every path from outside and inside.
//
//	lab [flags] up       create or reuse the cluster, load images, deploy, wait
//	lab [flags] down     delete the cluster and what the lab started for it
//	lab [flags] status   nodes, pods, Services and the URLs
//	lab [flags] check    the reachability matrix; exit 1 when a path fails
//
// `make kind-up`, `make kind-down`, `make local-up`, `make local-down` and
// `make check` call it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"k8s.io/klog/v2"

	"github.com/podpaths/podpaths/lab/internal/kind"
)

// errUsage marks a bad command line (exit 2); errCheckFailed a check that
// ran and found a failing path (exit 1, the summary line already said so).
var (
	errUsage       = errors.New("usage")
	errCheckFailed = errors.New("reachability check failed")
)

func main() {
	// client-go logs through klog what the lab reports itself as errors, and
	// what it expects (a port-forward into a pod that is stopping).
	klog.SetSlogLogger(slog.New(slog.DiscardHandler))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		// A bare errUsage follows the usage text, and a failed check its
		// summary line; anything else needs saying.
		if !errors.Is(err, errCheckFailed) && err != errUsage { //nolint:errorlint // identity: wrapped usage errors carry a message
			fmt.Fprintln(os.Stderr, "lab:", err)
		}
		os.Exit(exitCode(err))
	}
}

func exitCode(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		return 2
	default:
		return 1
	}
}

// run parses the command line and runs the command, with the real cluster
// providers and clients.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runWith(ctx, args, stdout, stderr, defaultDeps())
}

// globals are the flags before the command.
type globals struct {
	provider          string
	name              string
	namespace         string
	root              string
	cloudProviderKind string
	kindConfig        string
	externalLBImage   string
	keep              bool
	verbosity         int
	nodes             int
	outsideRange      netip.Prefix
	nodeLinkRange     netip.Prefix
}

const usage = `usage: lab [flags] up|down|status|check|exercise|doctor [command flags]

  up       create or reuse the cluster, build and load the images, start the
           LoadBalancer controller, apply the overlay, wait until ready
  down     delete the cluster and stop what the lab started
  status   print nodes, pods, Services and the URLs
  check    run the reachability matrix (--junit FILE writes JUnit XML)
  exercise the workshop's exercises: list, N, check, reset (docs/workshop.md)
  doctor   check this machine for what the provider's lab needs

flags:
`

func runWith(ctx context.Context, args []string, stdout, stderr io.Writer, d deps) error {
	var g globals
	fs := flag.NewFlagSet("lab", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage) //nolint:errcheck // stderr is the last resort
		fs.PrintDefaults()
	}
	fs.StringVar(&g.provider, "provider", "kind",
		"cluster provider: kind, or local (the offline cluster of host processes on this machine; needs root)")
	fs.StringVar(&g.name, "name", "podpaths", "cluster name")
	fs.IntVar(&g.nodes, "nodes", 0,
		"local provider: how many nodes up starts, 1 or 2 (default 2, or $PODPATHS_LOCAL_NODES); down removes them all")
	fs.TextVar(&g.outsideRange, "outside-range", netip.Prefix{},
		"local provider: the outside client's link, at least a /30 (default 172.31.0.0/30, or $PODPATHS_LOCAL_OUTSIDE_RANGE), "+
			"for a machine already on that network; down and the other commands use what up used")
	fs.TextVar(&g.nodeLinkRange, "node-link-range", netip.Prefix{},
		"local provider: the node links, a /30 per node after the first (default 172.30.0.0/24, or $PODPATHS_LOCAL_NODE_LINK_RANGE)")
	fs.StringVar(&g.namespace, "namespace", "podpaths", "namespace of the lab's workloads")
	fs.StringVar(&g.root, "root", "", "repository root (default: found from the working directory)")
	fs.StringVar(&g.cloudProviderKind, "cloud-provider-kind", "cloud-provider-kind",
		`cloud-provider-kind binary to start in the background, or "external" if you run it yourself`)
	fs.StringVar(&g.kindConfig, "kind-config", filepath.Join("deploy", "kind", "cluster.yaml"),
		"kind provider: the cluster config, relative to the root")
	fs.StringVar(&g.externalLBImage, "external-lb-image", kind.DefaultExternalLBImage,
		"kind provider: HAProxy's image for the load balancer in front of the nodes' NodePorts")
	fs.BoolVar(&g.keep, "keep", false, "kind provider: keep the nodes when creating the cluster fails, for inspection")
	fs.IntVar(&g.verbosity, "v", 0, "log verbosity: 0 progress, 1+ debug and kind's details")
	if err := fs.Parse(args); err != nil {
		return flagError(err)
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errUsage
	}
	level := slog.LevelInfo
	if g.verbosity > 0 {
		level = slog.LevelDebug
	}
	// A CLI for people: text logs on stderr, so stdout holds only results.
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if g.root == "" {
		root, err := findRoot(d.getwd)
		if err != nil {
			return err
		}
		g.root = root
	}
	a := &app{g: g, d: d, log: logger, stdout: stdout, stderr: stderr}
	cmd, rest := fs.Arg(0), fs.Args()[1:]
	switch cmd {
	case "up":
		return a.up(ctx, rest)
	case "down":
		return a.down(ctx, rest)
	case "status":
		return a.status(ctx, rest)
	case "check":
		return a.check(ctx, rest)
	case "exercise":
		return a.exercise(ctx, rest)
	case "doctor":
		return a.doctor(ctx, rest)
	default:
		fmt.Fprintf(stderr, "lab: unknown command %q\n", cmd) //nolint:errcheck // stderr is the last resort
		fs.Usage()
		return errUsage
	}
}

// flagError turns -h into a clean exit and anything else into a usage error;
// the flag package has already printed the message.
func flagError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return errUsage
}

// findRoot walks up from the working directory to the repository root, the
// directory holding go.work, so that `go run ./lab` from the root and
// `go run .` from lab/ both work.
func findRoot(getwd func() (string, error)) (string, error) {
	dir, err := getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.work found above the working directory; run from the repository or pass --root")
		}
		dir = parent
	}
}

// Defaults of the commands' flags.
const (
	defaultWait         = 10 * time.Minute
	defaultLBWait       = 2 * time.Minute
	waitForControlPlane = 3 * time.Minute
	pollInterval        = 2 * time.Second
	nodePort            = 30080
)
