// Package kind is the lab's kind provider: it creates and deletes the kind
// cluster through sigs.k8s.io/kind's Go API, loads image archives into every
// node as `kind load image-archive` does, and runs cloud-provider-kind so
// that LoadBalancer Services get an address.
package kind

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"
	"sigs.k8s.io/kind/pkg/cluster"
	"sigs.k8s.io/kind/pkg/cluster/nodes"
	"sigs.k8s.io/kind/pkg/cluster/nodeutils"
	kindexec "sigs.k8s.io/kind/pkg/exec"
	"sigs.k8s.io/yaml"

	"github.com/podpaths/podpaths/lab/internal/proc"
	"github.com/podpaths/podpaths/lab/kube"
	"github.com/podpaths/podpaths/lab/matrix"
)

// ExternalController is the CloudProviderKind value that means "the user runs
// cloud-provider-kind": the lab then neither starts nor stops it.
const ExternalController = "external"

// cpkName is what cloud-provider-kind's command line contains.
const cpkName = "cloud-provider-kind"

// Options configure the provider.
type Options struct {
	// Name is the cluster name; its nodes are <name>-control-plane, <name>-worker...
	Name string
	// ConfigFile is the kind cluster config (deploy/kind/cluster.yaml).
	ConfigFile string
	// Keep keeps the nodes when creating the cluster fails, as kind's
	// --retain does, so that `docker exec` can look at what went wrong.
	Keep bool
	// StateDir holds cloud-provider-kind's pid and log files.
	StateDir string
	// CloudProviderKind is the binary to run (looked up in PATH), or
	// ExternalController.
	CloudProviderKind string
	// WaitForReady bounds how long kind waits for the control plane.
	WaitForReady time.Duration
	// NodePort is the nodePort that extraPortMappings publish on the host.
	NodePort int32
	// ExternalLBImage is HAProxy's image for the external load balancer in
	// front of the NodePorts (DefaultExternalLBImage).
	ExternalLBImage string
	// Logger receives kind's progress and the provider's own messages.
	Logger *slog.Logger
	// Verbosity is kind's V level that is still logged.
	Verbosity int
}

// Provider runs the lab on kind.
type Provider struct {
	opts Options
	kind *cluster.Provider
	log  *slog.Logger
}

// New returns a kind provider. kind picks the node runtime itself (docker,
// then nerdctl, then podman), as the kind CLI does.
func New(opts Options) *Provider {
	return &Provider{
		opts: opts,
		kind: cluster.NewProvider(cluster.ProviderWithLogger(newLogger(opts.Logger, opts.Verbosity))),
		log:  opts.Logger,
	}
}

// Name returns "kind".
func (p *Provider) Name() string { return "kind" }

// Overlay returns the kustomize overlay this provider deploys.
func (p *Provider) Overlay() string { return filepath.Join("deploy", "overlays", "kind") }

// Exists reports whether the cluster exists.
func (p *Provider) Exists(context.Context) (bool, error) {
	names, err := p.kind.List()
	if err != nil {
		return false, fmt.Errorf("list kind clusters: %w", err)
	}
	return slices.Contains(names, p.opts.Name), nil
}

// Create creates the cluster from the config file, or reuses it when it
// exists: kind cannot change a running cluster's nodes anyway, and `up` must
// be safe to run again. Either way its DNS then stays inside the cluster, and
// the external load balancer is started in front of its nodes.
func (p *Provider) Create(ctx context.Context) error {
	exists, err := p.Exists(ctx)
	if err != nil {
		return err
	}
	if exists {
		p.log.Info("reusing kind cluster", "name", p.opts.Name)
		return p.finish(ctx)
	}
	p.log.Info("creating kind cluster", "name", p.opts.Name, "config", p.opts.ConfigFile)
	err = p.kind.Create(p.opts.Name,
		cluster.CreateWithConfigFile(p.opts.ConfigFile),
		cluster.CreateWithWaitForReady(p.opts.WaitForReady),
		cluster.CreateWithDisplayUsage(false),
		cluster.CreateWithDisplaySalutation(false),
		cluster.CreateWithRetain(p.opts.Keep),
	)
	if err != nil {
		return p.createError(err)
	}
	return p.finish(ctx)
}

// finish is what Create does to a new or reused cluster.
func (p *Provider) finish(ctx context.Context) error {
	raw, err := p.Kubeconfig(ctx)
	if err != nil {
		return err
	}
	c, err := kube.FromKubeconfig(raw)
	if err != nil {
		return err
	}
	if err := p.keepDNSInside(ctx, c.Kube); err != nil {
		return err
	}
	p.startExternalLB(ctx, c.Kube)
	return nil
}

// createError adds what kind's failed command printed. kind's error names
// only the command ("failed to init node with kubeadm: ... exit status 1");
// the reason, kubeadm's or docker's own message, is in its output. The tail
// goes into the error, the whole output into a file.
func (p *Provider) createError(err error) error {
	// kind's errors chain through pkg/errors' Cause, so look before wrapping.
	run := kindexec.RunErrorForError(err)
	err = fmt.Errorf("create kind cluster %s: %w", p.opts.Name, err)
	if run == nil || len(run.Output) == 0 {
		return p.keepHint(err)
	}
	err = fmt.Errorf("%w\n%s: the last lines it printed:\n%s", err, run.PrettyCommand(), tail(run.Output, outputTail))
	logFile := filepath.Join(p.opts.StateDir, "kind-create.log")
	if werr := writeFile(logFile, run.Output); werr == nil {
		err = fmt.Errorf("%w\n(all of it: %s)", err, logFile)
	}
	return p.keepHint(err)
}

// writeFile writes b to path, creating its directory.
func writeFile(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// outputTail is how many lines of a failed command's output an error shows:
// kubeadm's reason is in its last lines, above its advice.
const outputTail = 25

func (p *Provider) keepHint(err error) error {
	if p.opts.Keep {
		return fmt.Errorf("%w\n(the nodes are kept: docker ps --filter label=io.x-k8s.kind.cluster=%s; make kind-down removes them)", err, p.opts.Name)
	}
	return fmt.Errorf("%w\n(make kind-up KEEP=1 keeps the nodes to look inside)", err)
}

// tail returns the last n lines of out.
func tail(out []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Delete stops cloud-provider-kind, which removes its load balancer
// containers as it exits, removes the external load balancer, and then
// deletes the cluster. Every step is idempotent.
func (p *Provider) Delete(ctx context.Context) error {
	if err := p.StopLoadBalancer(ctx); err != nil {
		return err
	}
	if err := p.removeExternalLB(ctx); err != nil {
		return err
	}
	p.log.Info("deleting kind cluster", "name", p.opts.Name)
	// An empty kubeconfig path means the default one, which Create wrote to.
	if err := p.kind.Delete(p.opts.Name, ""); err != nil {
		return fmt.Errorf("delete kind cluster %s: %w", p.opts.Name, err)
	}
	return nil
}

// Kubeconfig returns the cluster's kubeconfig for use from the host.
func (p *Provider) Kubeconfig(context.Context) ([]byte, error) {
	cfg, err := p.kind.KubeConfig(p.opts.Name, false)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig of kind cluster %s: %w", p.opts.Name, err)
	}
	return []byte(cfg), nil
}

// LoadImages imports every archive into containerd on every node, the way
// `kind load image-archive` does, one goroutine per node. The local
// cluster's own images are left out: kind's node image has its own pause
// and CoreDNS, and the two would add about 230 MB to every node.
func (p *Provider) LoadImages(_ context.Context, archives []string) error {
	archives = slices.DeleteFunc(slices.Clone(archives), localClusterOnly)
	nodeList, err := p.kind.ListInternalNodes(p.opts.Name)
	if err != nil {
		return fmt.Errorf("list nodes of %s: %w", p.opts.Name, err)
	}
	if len(nodeList) == 0 {
		return fmt.Errorf("kind cluster %s has no nodes", p.opts.Name)
	}
	errs := make([]error, len(nodeList))
	var wg sync.WaitGroup
	for i, n := range nodeList {
		wg.Go(func() { errs[i] = p.loadInto(n, archives) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// localClusterOnly reports whether an archive of hack/images.sh holds an
// image that only the local cluster runs (its names: docker save's
// <registry>_<path>_<tag>.tar).
func localClusterOnly(archive string) bool {
	name := filepath.Base(archive)
	return strings.HasPrefix(name, "localhost_podpaths_pause_") || strings.HasPrefix(name, "localhost_podpaths_coredns_")
}

func (p *Provider) loadInto(n nodes.Node, archives []string) error {
	for _, a := range archives {
		p.log.Info("loading image archive", "node", n.String(), "archive", filepath.Base(a))
		if err := loadArchive(n, a); err != nil {
			return fmt.Errorf("load %s into %s: %w", a, n.String(), err)
		}
	}
	return nil
}

func loadArchive(n nodes.Node, archive string) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close() //nolint:errcheck // read-only file
	return nodeutils.LoadImageArchive(n, f)
}

// StartLoadBalancer starts cloud-provider-kind in the background unless it
// already runs from an earlier `up`. It reports whether a controller is
// expected to assign addresses; a missing binary is a warning, not an error,
// because everything but the LoadBalancer path works without it.
func (p *Provider) StartLoadBalancer(context.Context) (bool, error) {
	if p.opts.CloudProviderKind == ExternalController {
		p.log.Info("cloud-provider-kind is run by you; not starting it")
		return true, nil
	}
	if pid, ok := proc.Running(p.pidFile(), cpkName); ok {
		p.log.Info("cloud-provider-kind already running", "pid", pid)
		return true, nil
	}
	bin, err := exec.LookPath(p.opts.CloudProviderKind)
	if err != nil {
		p.log.Warn("cloud-provider-kind not found: LoadBalancer Services stay pending. "+
			"Install it with `go install sigs.k8s.io/cloud-provider-kind@latest` and run `make kind-up` again",
			"looked_for", p.opts.CloudProviderKind)
		return false, nil
	}
	if err := os.MkdirAll(p.opts.StateDir, 0o755); err != nil {
		return false, fmt.Errorf("state dir: %w", err)
	}
	pid, err := proc.Start(bin, nil, p.pidFile(), p.logFile())
	if err != nil {
		return false, err
	}
	p.log.Info("started cloud-provider-kind", "pid", pid, "log", p.logFile())
	return true, nil
}

// StopLoadBalancer stops the cloud-provider-kind that the lab started.
// SIGTERM lets it delete its load balancer containers before it exits.
func (p *Provider) StopLoadBalancer(ctx context.Context) error {
	if p.opts.CloudProviderKind == ExternalController {
		return nil
	}
	if pid, ok := proc.Running(p.pidFile(), cpkName); ok {
		p.log.Info("stopping cloud-provider-kind", "pid", pid)
	}
	if err := proc.Stop(ctx, p.pidFile(), cpkName, 30*time.Second); err != nil {
		return fmt.Errorf("stop cloud-provider-kind: %w", err)
	}
	return nil
}

// LoadBalancerStatus says whether the lab's cloud-provider-kind runs.
func (p *Provider) LoadBalancerStatus() string {
	if p.opts.CloudProviderKind == ExternalController {
		return "cloud-provider-kind: run by you"
	}
	if pid, ok := proc.Running(p.pidFile(), cpkName); ok {
		return fmt.Sprintf("cloud-provider-kind: running (pid %d, log %s)", pid, p.logFile())
	}
	return "cloud-provider-kind: not running (LoadBalancer Services stay pending)"
}

func (p *Provider) pidFile() string { return filepath.Join(p.opts.StateDir, "cloud-provider-kind.pid") }
func (p *Provider) logFile() string { return filepath.Join(p.opts.StateDir, "cloud-provider-kind.log") }

// NodeIPsUnreachable explains, off Linux, that kind's node containers live
// inside Docker Desktop's (or podman machine's) VM, whose bridge network the
// host cannot route to; extraPortMappings is the way in there.
func (p *Provider) NodeIPsUnreachable() string {
	if runtime.GOOS == "linux" {
		return ""
	}
	return "on " + runtime.GOOS + " the node IPs are inside the container runtime's VM and not routable from this machine; the localhost mapping is the way in"
}

// Localhost returns where the config publishes the NodePort on this machine.
func (p *Provider) Localhost() (matrix.Localhost, error) {
	raw, err := p.readConfig()
	if err != nil {
		return matrix.Localhost{}, err
	}
	return localhostFromConfig(raw, p.opts.Name, p.opts.NodePort)
}

// readConfig reads the kind cluster config file.
func (p *Provider) readConfig() ([]byte, error) {
	raw, err := os.ReadFile(p.opts.ConfigFile)
	if err != nil {
		return nil, fmt.Errorf("read kind config: %w", err)
	}
	return raw, nil
}

// parseConfig decodes a kind cluster config.
func parseConfig(raw []byte) (v1alpha4.Cluster, error) {
	var cfg v1alpha4.Cluster
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		return cfg, fmt.Errorf("parse kind config: %w", err)
	}
	return cfg, nil
}

// localhostFromConfig finds the extraPortMapping that publishes nodePort and
// returns the host address and the node it reaches (kind names nodes
// <cluster>-control-plane, <cluster>-control-plane2, <cluster>-worker, ...).
func localhostFromConfig(raw []byte, clusterName string, nodePort int32) (matrix.Localhost, error) {
	cfg, err := parseConfig(raw)
	if err != nil {
		return matrix.Localhost{}, err
	}
	count := map[v1alpha4.NodeRole]int{}
	for _, n := range cfg.Nodes {
		count[n.Role]++
		for _, m := range n.ExtraPortMappings {
			if m.ContainerPort != nodePort || m.HostPort <= 0 {
				continue
			}
			host := m.ListenAddress
			if host == "" || host == "0.0.0.0" {
				host = "127.0.0.1"
			}
			return matrix.Localhost{
				Address: net.JoinHostPort(host, strconv.Itoa(int(m.HostPort))),
				Node:    nodeName(clusterName, n.Role, count[n.Role]),
			}, nil
		}
	}
	return matrix.Localhost{}, fmt.Errorf("kind config maps no host port to nodePort %d", nodePort)
}

func nodeName(clusterName string, role v1alpha4.NodeRole, nth int) string {
	name := clusterName + "-" + string(role)
	if nth > 1 {
		name += strconv.Itoa(nth)
	}
	return name
}
