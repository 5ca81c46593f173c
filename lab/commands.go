package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/podpaths/podpaths/lab/internal/kind"
	"github.com/podpaths/podpaths/lab/internal/local"
	"github.com/podpaths/podpaths/lab/manifest"
	"github.com/podpaths/podpaths/lab/rollout"
	"github.com/podpaths/podpaths/lab/internal/status"
	"github.com/podpaths/podpaths/lab/matrix"
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
}

// hostCluster is a provider whose nodes run on this machine (local): its
// node IPs answer directly, and its kubeconfig is a file of its own.
type hostCluster interface {
	NodeURLs() []string
	KubeconfigFile() string
}

// clients are the API clients the commands use.
type clients struct {
	kube    kubernetes.Interface
	dynamic dynamic.Interface
	mapper  meta.RESTMapper
}

// deps are the outside world, replaced in tests.
type deps struct {
	newProvider func(g globals, log *slog.Logger) (provider, error)
	newClients  func(kubeconfig []byte) (clients, error)
	// dial is the matrix's dialer; nil dials for real.
	dial  matrix.DialFunc
	getwd func() (string, error)
}

func defaultDeps() deps {
	return deps{newProvider: newProvider, newClients: newClients, getwd: os.Getwd}
}

func newProvider(g globals, log *slog.Logger) (provider, error) {
	switch g.provider {
	case "kind":
		return kind.New(kind.Options{
			Name:              g.name,
			ConfigFile:        filepath.Join(g.root, "deploy", "kind", "cluster.yaml"),
			StateDir:          filepath.Join(g.root, "_output", "lab"),
			CloudProviderKind: g.cloudProviderKind,
			WaitForReady:      waitForControlPlane,
			NodePort:          nodePort,
			Logger:            log,
			Verbosity:         g.verbosity,
		}), nil
	case "local":
		return local.New(local.Options{
			Name:     g.name,
			Root:     g.root,
			NodePort: nodePort,
			Nodes:    g.nodes,
			Logger:   log,
		}), nil
	default:
		return nil, fmt.Errorf("%w: unknown provider %q (have: kind, local)", errUsage, g.provider)
	}
}

func newClients(kubeconfig []byte) (clients, error) {
	cfg, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig)
	if err != nil {
		return clients{}, fmt.Errorf("kubeconfig: %w", err)
	}
	cfg.Timeout = 30 * time.Second
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return clients{}, fmt.Errorf("kubernetes client: %w", err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return clients{}, fmt.Errorf("dynamic client: %w", err)
	}
	// Discovery is read lazily and cached, the way kubectl maps kinds to
	// resources.
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(kube.Discovery()))
	return clients{kube: kube, dynamic: dyn, mapper: mapper}, nil
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

func (a *app) up(ctx context.Context, args []string) error {
	fs := a.flags("up")
	skipImages := fs.Bool("skip-images", false, "do not run hack/images.sh; load the archives already in _output/images")
	wait := fs.Duration("wait", defaultWait, "how long to wait for the workloads to be ready")
	lbWait := fs.Duration("lb-wait", defaultLBWait, "how long to wait for the LoadBalancer address after that")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	p, err := a.d.newProvider(a.g, a.log)
	if err != nil {
		return err
	}
	if err := p.Create(ctx); err != nil {
		return err
	}
	archives, err := a.images(ctx, *skipImages)
	if err != nil {
		return err
	}
	if err := p.LoadImages(ctx, archives); err != nil {
		return err
	}
	lbController, err := p.StartLoadBalancer(ctx)
	if err != nil {
		return err
	}
	c, err := a.clients(ctx, p, "")
	if err != nil {
		return err
	}
	if err := a.deploy(ctx, c, p.Overlay()); err != nil {
		return err
	}
	if err := a.waitReady(ctx, c, *wait, lbController, *lbWait); err != nil {
		return err
	}
	return a.printURLs(ctx, c, p)
}

// waitReady waits for the workloads, then for the LoadBalancer address. A
// missing address only warns: every other path works without it, and the
// reasons are outside the cluster (see docs/lab.md).
func (a *app) waitReady(ctx context.Context, c clients, wait time.Duration, lbController bool, lbWait time.Duration) error {
	waitCtx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	if err := rollout.Wait(waitCtx, c.kube, a.g.namespace, false, pollInterval, a.stderr); err != nil {
		return err
	}
	if !lbController {
		return nil
	}
	lbCtx, cancel := context.WithTimeout(ctx, lbWait)
	defer cancel()
	err := rollout.Wait(lbCtx, c.kube, a.g.namespace, true, pollInterval, a.stderr)
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		a.log.Warn("the LoadBalancer has no address yet; see docs/lab.md, \"LoadBalancer stays pending\"", "err", err)
		return nil
	}
	return err
}

// images builds the images with the repository's own script, which saves
// them as archives, and returns those archives.
func (a *app) images(ctx context.Context, skip bool) ([]string, error) {
	if !skip {
		a.log.Info("building images", "script", "hack/images.sh")
		cmd := exec.CommandContext(ctx, "bash", filepath.Join("hack", "images.sh"))
		cmd.Dir = a.g.root
		cmd.Stdout, cmd.Stderr = a.stderr, a.stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("hack/images.sh: %w", err)
		}
	}
	archives, err := filepath.Glob(filepath.Join(a.g.root, "_output", "images", "*.tar"))
	if err != nil {
		return nil, fmt.Errorf("find image archives: %w", err)
	}
	if len(archives) == 0 {
		return nil, errors.New("no image archives in _output/images (hack/images.sh saves them there)")
	}
	return archives, nil
}

// deploy renders the overlay and applies it.
func (a *app) deploy(ctx context.Context, c clients, overlay string) error {
	dir := filepath.Join(a.g.root, overlay)
	objs, err := manifest.Render(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return err
	}
	a.log.Info("applying", "overlay", overlay, "objects", len(objs))
	return manifest.Apply(ctx, c.dynamic, c.mapper, objs, func(what string) {
		a.log.Debug("applied", "object", what)
	})
}

// clients builds API clients from an explicit kubeconfig file, or from the
// provider's cluster.
func (a *app) clients(ctx context.Context, p provider, kubeconfigFile string) (clients, error) {
	var raw []byte
	var err error
	if kubeconfigFile != "" {
		raw, err = os.ReadFile(kubeconfigFile)
	} else {
		raw, err = p.Kubeconfig(ctx)
	}
	if err != nil {
		return clients{}, fmt.Errorf("%w (is the lab up? make %s-up creates it)", err, a.g.provider)
	}
	return a.d.newClients(raw)
}

// printURLs says where to look: the dashboard through the NodePort on this
// machine and through the LoadBalancer address.
func (a *app) printURLs(ctx context.Context, c clients, p provider) error {
	var b strings.Builder
	fmt.Fprintf(&b, "podpaths is up on %s cluster %q\n", p.Name(), a.g.name)
	if lh, err := p.Localhost(); err == nil {
		fmt.Fprintf(&b, "  dashboard via NodePort:     %s\n", localURL(lh.Address))
	}
	h, onHost := p.(hostCluster)
	if onHost {
		for _, u := range h.NodeURLs() {
			fmt.Fprintf(&b, "  dashboard via node IP:      %s\n", u)
		}
	}
	fmt.Fprintf(&b, "  dashboard via LoadBalancer: %s\n", a.lbURL(ctx, c))
	fmt.Fprintf(&b, "  check every path:           make check\n")
	if onHost {
		fmt.Fprintf(&b, "  use kubectl:                export KUBECONFIG=%s\n", h.KubeconfigFile())
	}
	_, err := io.WriteString(a.stdout, b.String())
	return err
}

// localURL writes 127.0.0.1 as localhost, the name people type.
func localURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err == nil && host == "127.0.0.1" {
		addr = net.JoinHostPort("localhost", port)
	}
	return "http://" + addr + "/"
}

func (a *app) lbURL(ctx context.Context, c clients) string {
	svc, err := c.kube.CoreV1().Services(a.g.namespace).Get(ctx, "frontend", metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return "none (no Service frontend)"
	case err != nil:
		return "unknown (" + err.Error() + ")"
	}
	addr := status.LoadBalancerAddress(*svc)
	if addr == "" {
		return "pending (no LoadBalancer controller has answered yet: cloud-provider-kind on kind, MetalLB on the local cluster; see docs/lab.md)"
	}
	if len(svc.Spec.Ports) > 0 && svc.Spec.Ports[0].Port != 80 {
		addr = net.JoinHostPort(addr, fmt.Sprint(svc.Spec.Ports[0].Port))
	}
	return "http://" + hostForURL(addr) + "/"
}

// hostForURL brackets a bare IPv6 address.
func hostForURL(addr string) string {
	if ip := net.ParseIP(addr); ip != nil && ip.To4() == nil {
		return "[" + addr + "]"
	}
	return addr
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
	if err := status.Print(ctx, c.kube, a.g.namespace, a.stdout); err != nil {
		return err
	}
	if _, err := fmt.Fprintf(a.stdout, "\n%s\n", p.LoadBalancerStatus()); err != nil {
		return err
	}
	return a.printURLs(ctx, c, p)
}

func (a *app) check(ctx context.Context, args []string) error {
	fs := a.flags("check")
	junit := fs.String("junit", "", "write JUnit XML to this file")
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig file (default: the provider's cluster)")
	localhost := fs.String("localhost", "", "host:port that forwards to a NodePort (default: the provider's mapping; none with --kubeconfig)")
	outside := fs.Duration("timeout", 5*time.Second, "timeout of each call from outside")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	p, err := a.d.newProvider(a.g, a.log)
	if err != nil {
		return err
	}
	c, err := a.clients(ctx, p, *kubeconfig)
	if err != nil {
		return err
	}
	cfg := matrix.DefaultConfig()
	cfg.Namespace = a.g.namespace
	cfg.OutsideTimeout = *outside
	cfg.DialContext = a.d.dial
	cfg.Localhost = a.localhost(p, *localhost, *kubeconfig)
	if *kubeconfig == "" {
		cfg.NodeIPsUnreachable = p.NodeIPsUnreachable()
	}
	started := time.Now()
	res, err := matrix.New(c.kube, cfg).Run(ctx)
	if err != nil {
		return err
	}
	if err := res.Write(a.stdout); err != nil {
		return err
	}
	if *junit != "" {
		if err := writeJUnit(*junit, res, started); err != nil {
			return err
		}
	}
	if !res.Passed() {
		return errCheckFailed
	}
	return nil
}

// localhost picks the localhost entry: the flag, else the provider's mapping
// unless another cluster's kubeconfig was given.
func (a *app) localhost(p provider, flagAddr, kubeconfig string) matrix.Localhost {
	if flagAddr != "" {
		return matrix.Localhost{Address: flagAddr}
	}
	if kubeconfig != "" {
		return matrix.Localhost{}
	}
	lh, err := p.Localhost()
	if err != nil {
		a.log.Warn("not checking the NodePort on localhost", "err", err)
		return matrix.Localhost{}
	}
	return lh
}

func writeJUnit(path string, res matrix.Result, started time.Time) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("junit: %w", cerr)
		}
	}()
	return res.WriteJUnit(f, "podpaths check", started)
}
