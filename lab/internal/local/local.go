// Package local is the lab's offline cluster provider (`lab up --provider
// local`, make local-up): a real Kubernetes whose components run as host
// processes on this machine, for machines that cannot run kind because
// nothing can be pulled from a registry.
//
// Everything comes from upstream source or Debian: Kubernetes, etcd, CoreDNS,
// MetalLB's controller and crictl are built from the Go module proxy (cached
// by version, see build.go); containerd, runc and the CNI plugins are Debian
// packages (debs.go); the images are built FROM scratch by hack/images.sh.
// Nothing is ever pulled, and network guards (network.go) that go up before
// anything starts keep every cluster packet on this machine.
//
// The provider follows the lab's steps: Create starts the cluster (guards,
// PKI, containerd, etcd, control plane, kubelet, kube-proxy) and waits for
// the nodes; LoadImages imports the image archives and then starts CoreDNS,
// which runs from one of them; StartLoadBalancer starts MetalLB's controller.
// Delete stops everything and removes what Create added. All of them can be
// run again, and Delete cleans up after a Create that failed half way.
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

	"github.com/podpaths/podpaths/lab/internal/proc"
	"github.com/podpaths/podpaths/lab/matrix"
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
	// DefaultNodes. `down` removes every node whatever this says.
	Nodes int
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
		return DefaultNodes, nil
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
	host    host
	layout  layout
	builder builder
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
		opts:   opts,
		log:    opts.Logger,
		host:   machine{},
		layout: layout{dir: opts.StateDir},
		builder: builder{
			wrappers: filepath.Join(opts.Root, "hack", "local-cluster", "build"),
			cache:    opts.CacheDir,
			log:      opts.Logger,
			goCmd:    runGo,
			now:      time.Now,
		},
		now: time.Now,
	}
}

// Name returns "local".
func (p *Provider) Name() string { return "local" }

// Overlay returns the kustomize overlay of the local cluster.
func (p *Provider) Overlay() string { return filepath.Join("deploy", "overlays", "local") }

// KubeconfigFile is the admin kubeconfig `up` writes.
func (p *Provider) KubeconfigFile() string { return p.layout.adminKubeconfig() }

// Exists reports whether the cluster's API server runs.
func (p *Provider) Exists(context.Context) (bool, error) {
	if _, err := os.Stat(p.layout.adminKubeconfig()); err != nil {
		// No kubeconfig: not up, which is an answer, not an error.
		return false, nil
	}
	_, ok := proc.Running(filepath.Join(p.layout.run(), "kube-apiserver.pid"), "kube-apiserver")
	return ok, nil
}

// Kubeconfig returns the admin kubeconfig.
func (p *Provider) Kubeconfig(context.Context) ([]byte, error) {
	b, err := os.ReadFile(p.layout.adminKubeconfig())
	if err != nil {
		return nil, fmt.Errorf("local cluster kubeconfig: %w", err)
	}
	return b, nil
}

// LoadBalancerStatus says whether MetalLB's controller runs.
func (p *Provider) LoadBalancerStatus() string {
	pidFile := filepath.Join(p.layout.run(), "metallb-controller.pid")
	if pid, ok := proc.Running(pidFile, "metallb-controller"); ok {
		return fmt.Sprintf("metallb-controller: running (pid %d, log %s)", pid, filepath.Join(p.layout.logs(), "metallb-controller.log"))
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

// cluster describes the cluster on this machine: node A is this machine,
// with the IP of the interface that holds the default route (read from the
// kernel's tables, nothing is sent); node B, when asked for, a network
// namespace.
func (p *Provider) cluster() (Cluster, error) {
	n, err := nodeCount(p.opts.Nodes, os.Getenv)
	if err != nil {
		return Cluster{}, err
	}
	return p.clusterOf(n)
}

// clusterOf is the cluster with n nodes.
func (p *Provider) clusterOf(n int) (Cluster, error) {
	ip, err := defaultRouteIP()
	if err != nil {
		return Cluster{}, err
	}
	c, err := NewCluster(p.opts.Name, ip, p.opts.StateDir).WithNodes(n)
	if err != nil {
		return Cluster{}, err
	}
	return c, c.Validate()
}

// defaultRouteIP is the first IPv4 address of the interface that holds the
// default route.
func defaultRouteIP() (netip.Addr, error) {
	raw, err := os.ReadFile("/proc/net/route")
	if err != nil {
		return netip.Addr{}, fmt.Errorf("node IP: %w", err)
	}
	name, err := defaultRouteInterface(string(raw))
	if err != nil {
		return netip.Addr{}, err
	}
	iface, err := net.InterfaceByName(name)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("node IP: %w", err)
	}
	addrs, err := iface.Addrs()
	if err != nil {
		return netip.Addr{}, fmt.Errorf("node IP: %w", err)
	}
	for _, a := range addrs {
		if pfx, err := netip.ParsePrefix(a.String()); err == nil && pfx.Addr().Is4() {
			return pfx.Addr(), nil
		}
	}
	return netip.Addr{}, fmt.Errorf("node IP: %s has no IPv4 address", name)
}

// defaultRouteInterface reads /proc/net/route, whose default route has
// destination and mask 00000000.
func defaultRouteInterface(table string) (string, error) {
	for i, line := range strings.Split(table, "\n") {
		f := strings.Fields(line)
		if i == 0 || len(f) < 8 {
			continue
		}
		if f[1] == "00000000" && f[7] == "00000000" {
			return f[0], nil
		}
	}
	return "", errors.New("node IP: no IPv4 default route, so no interface to take the node IP from")
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
