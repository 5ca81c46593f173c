// Package local is the lab's offline cluster provider (`lab up --provider
// local`, make local-up): a real Kubernetes whose components run as host
// processes on this machine, for machines that cannot run kind because
// nothing can be pulled from a registry.
//
// Everything comes from upstream source or Debian (package build): Kubernetes,
// etcd, CoreDNS, MetalLB's controller and crictl are built from the Go module
// proxy and cached by version; containerd, runc and the CNI plugins are
// Debian packages; the images are built FROM scratch by hack/images.sh.
// Nothing is ever pulled, and network guards (package guards) that go up
// before anything starts keep every cluster packet on this machine.
//
// The provider follows the lab's steps: Create (up.go) starts the cluster
// (guards, PKI, containerd, etcd, control plane, kubelet, kube-proxy) and
// waits for the nodes; LoadImages (images.go) imports the image archives and
// then starts CoreDNS, which runs from one of them; StartLoadBalancer
// (loadbalancer.go) starts MetalLB's controller. Delete (down.go) stops
// everything and removes what Create added. All of them can be run again,
// and Delete cleans up after a Create that failed half way.
//
// The packages below this one each do one part, and know nothing of the
// provider: cluster describes the cluster as data, from which pki makes the
// certificates, nodeconfig the files the daemons read, guards the network
// guards, nodes node B's and the outside client's namespaces, and daemons
// the command lines of the programs that build provides; host is the
// machine they all change.
package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/podpaths/podpaths/lab/facts"
	"github.com/podpaths/podpaths/lab/internal/local/build"
	"github.com/podpaths/podpaths/lab/internal/local/cluster"
	"github.com/podpaths/podpaths/lab/internal/local/host"
	"github.com/podpaths/podpaths/lab/internal/proc"
	"github.com/podpaths/podpaths/lab/matrix"
	"github.com/podpaths/podpaths/platform/probe"
)

// Default locations (the contract's): state survives until `down`, the build
// cache survives everything.
const (
	DefaultStateDir = "/var/lib/podpaths/local"
	DefaultCacheDir = "/var/cache/podpaths"
)

// Options configure the provider.
type Options struct {
	// Name is the cluster's name; node names start with it.
	Name string
	// Root is the repository: the wrapper modules in hack/local-cluster/build
	// and the pool in deploy/local-lb come from there.
	Root string
	// StateDir holds the cluster's state (DefaultStateDir).
	StateDir string
	// CacheDir holds the built components (DefaultCacheDir).
	CacheDir string
	// NodePort is the port the lab's dashboard answers on, on every node
	// and on 127.0.0.1.
	NodePort int32
	// Nodes is how many nodes `up` runs (1 or 2); 0 reads NodesEnv, else
	// cluster.DefaultNodes. `down` removes every node whatever this says.
	Nodes int
	// OutsideRange and NodeLinkRange move the outside client's link and
	// the node links (cluster.LinkRanges) for `up`; unset, it reads
	// OutsideRangeEnv and NodeLinkRangeEnv, else keeps what the cluster
	// that is up uses, else the defaults. The other commands use what `up`
	// saved.
	OutsideRange, NodeLinkRange netip.Prefix
	// Logger receives progress.
	Logger *slog.Logger
	// Progress receives the "waiting: ..." lines of long waits; nil logs them.
	Progress io.Writer
}

// NodesEnv sets Options.Nodes when the caller leaves it 0:
// `PODPATHS_LOCAL_NODES=1 make local-up` starts node A only.
const NodesEnv = "PODPATHS_LOCAL_NODES"

// nodeCount is the number of nodes asked for: the option, else the
// environment, else the default.
func nodeCount(opt int, getenv func(string) string) (int, error) {
	if opt != 0 {
		return opt, nil
	}
	v := getenv(NodesEnv)
	if v == "" {
		return cluster.DefaultNodes, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: not a number of nodes", NodesEnv, v)
	}
	return n, nil
}

// Provider runs the lab on the local cluster.
type Provider struct {
	opts    Options
	log     *slog.Logger
	host    host.Host
	layout  cluster.Layout
	builder build.Builder
	// now is the clock of the PKI and the timings.
	now func() time.Time
}

// New returns the local provider.
func New(opts Options) *Provider {
	if opts.StateDir == "" {
		opts.StateDir = DefaultStateDir
	}
	if opts.CacheDir == "" {
		opts.CacheDir = DefaultCacheDir
	}
	if opts.Progress == nil {
		opts.Progress = logWriter{opts.Logger}
	}
	return &Provider{
		opts:    opts,
		log:     opts.Logger,
		host:    host.Machine{},
		layout:  cluster.Layout{Dir: opts.StateDir},
		builder: build.NewBuilder(filepath.Join(opts.Root, "hack", "local-cluster", "build"), opts.CacheDir, opts.Logger),
		now:     time.Now,
	}
}

// Name returns "local".
func (p *Provider) Name() string { return "local" }

// Overlay returns the kustomize overlay of the local cluster.
func (p *Provider) Overlay() string { return filepath.Join("deploy", "overlays", "local") }

// KubeconfigFile is the admin kubeconfig `up` writes.
func (p *Provider) KubeconfigFile() string { return p.layout.AdminKubeconfig() }

// Exists reports whether the cluster's API server runs.
func (p *Provider) Exists(context.Context) (bool, error) {
	if _, err := os.Stat(p.layout.AdminKubeconfig()); err != nil {
		// No kubeconfig: not up, which is an answer, not an error.
		return false, nil
	}
	_, ok := proc.Running(filepath.Join(p.layout.Run(), "kube-apiserver.pid"), "kube-apiserver")
	return ok, nil
}

// Kubeconfig returns the admin kubeconfig.
func (p *Provider) Kubeconfig(context.Context) ([]byte, error) {
	b, err := os.ReadFile(p.layout.AdminKubeconfig())
	if err != nil {
		return nil, fmt.Errorf("local cluster kubeconfig: %w", err)
	}
	return b, nil
}

// LoadBalancerStatus says whether MetalLB's controller runs.
func (p *Provider) LoadBalancerStatus() string {
	pidFile := filepath.Join(p.layout.Run(), "metallb-controller.pid")
	if pid, ok := proc.Running(pidFile, "metallb-controller"); ok {
		return fmt.Sprintf("metallb-controller: running (pid %d, log %s)", pid, filepath.Join(p.layout.Logs(), "metallb-controller.log"))
	}
	return "metallb-controller: not running (LoadBalancer Services stay pending)"
}

// Localhost is the NodePort on 127.0.0.1 of the first node: kube-proxy
// answers there too (nodePortAddresses in kube-proxy.yaml.tmpl).
func (p *Provider) Localhost() (matrix.Localhost, error) {
	return matrix.Localhost{
		Address: net.JoinHostPort("127.0.0.1", strconv.Itoa(int(p.opts.NodePort))),
		Node:    p.opts.Name + "-a",
		// This machine is node A: its calls are node A's own traffic.
		OnNode: true,
	}, nil
}

// OutsideClient dials from the outside client's network namespace, a
// machine of its own that is no node: it has routes to the node IPs and the
// LoadBalancer range only, as a laptop on the nodes' network would.
func (p *Provider) OutsideClient() (probe.DialFunc, string) {
	// Joining a network namespace needs root; without it every dial would
	// fail, and a call that must fail would look blocked.
	if os.Geteuid() != 0 {
		return nil, "calling from the outside client's network namespace needs root (sudo make check)"
	}
	f, err := p.facts()
	if err != nil || f.Outside.NetNS == "" {
		return nil, fmt.Sprintf("the outside client's network namespace is not known (%v)", err)
	}
	return host.DialFrom(f.Outside.NetNS), ""
}

// ExternalLB is HAProxy on the outside client, which `up` started.
func (p *Provider) ExternalLB() (string, string) {
	f, err := p.facts()
	if err != nil || f.Outside.LoadBalancer == "" {
		return "", fmt.Sprintf("the external load balancer is not known (%v): make local-up starts it", err)
	}
	return f.Outside.LoadBalancer, ""
}

// NodeIPsUnreachable is "": the nodes are this machine.
func (p *Provider) NodeIPsUnreachable() string { return "" }

// NodeURLs are the dashboard's NodePort on every node IP, from cluster.json.
func (p *Provider) NodeURLs() []string {
	f, err := p.facts()
	if err != nil {
		return nil
	}
	var urls []string
	for _, n := range f.Nodes {
		urls = append(urls, "http://"+net.JoinHostPort(n.IP, strconv.Itoa(int(p.opts.NodePort)))+"/")
	}
	return urls
}

// facts reads cluster.json, as Create wrote it.
func (p *Provider) facts() (facts.Facts, error) {
	return facts.Read(p.layout.FactsFile())
}

// cluster describes the cluster on this machine: node A is this machine,
// with the IP of the interface that holds the default route (read from the
// kernel's tables, nothing is sent); node B, when asked for, a network
// namespace.
func (p *Provider) cluster() (cluster.Cluster, error) {
	n, err := nodeCount(p.opts.Nodes, os.Getenv)
	if err != nil {
		return cluster.Cluster{}, err
	}
	r, err := p.askedLinkRanges(os.Getenv)
	if err != nil {
		return cluster.Cluster{}, err
	}
	return p.clusterWith(n, r)
}

// clusterOf is the cluster with n nodes, its links where `up` made them.
func (p *Provider) clusterOf(n int) (cluster.Cluster, error) {
	r, err := p.savedLinkRanges()
	if err != nil {
		return cluster.Cluster{}, err
	}
	return p.clusterWith(n, r)
}

func (p *Provider) clusterWith(n int, r cluster.LinkRanges) (cluster.Cluster, error) {
	ip, err := host.DefaultRouteIP()
	if err != nil {
		return cluster.Cluster{}, err
	}
	c, err := cluster.New(p.opts.Name, ip, p.opts.StateDir).WithLinkRanges(r)
	if err != nil {
		return cluster.Cluster{}, err
	}
	if c, err = c.WithNodes(n); err != nil {
		return cluster.Cluster{}, err
	}
	return c, c.Validate()
}

// logWriter logs each line written to it: the waits of the lab print their
// progress to a writer.
type logWriter struct{ log *slog.Logger }

func (w logWriter) Write(b []byte) (int, error) {
	for line := range strings.SplitSeq(strings.TrimSpace(string(b)), "\n") {
		if line != "" {
			w.log.Info(line)
		}
	}
	return len(b), nil
}

// requireRoot fails early with a clear message: the cluster changes routes
// and iptables and runs a kubelet.
func requireRoot() error {
	if os.Geteuid() != 0 {
		return errors.New("the local cluster needs root: it runs a kubelet and changes routes and iptables (try sudo)")
	}
	return nil
}
