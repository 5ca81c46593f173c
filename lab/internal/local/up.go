package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/podpaths/podpaths/lab/facts"
	"github.com/podpaths/podpaths/lab/internal/local/build"
	"github.com/podpaths/podpaths/lab/internal/local/cluster"
	"github.com/podpaths/podpaths/lab/internal/local/daemons"
	"github.com/podpaths/podpaths/lab/internal/local/guards"
	"github.com/podpaths/podpaths/lab/internal/local/host"
	"github.com/podpaths/podpaths/lab/internal/local/nodeconfig"
	"github.com/podpaths/podpaths/lab/internal/local/nodes"
	"github.com/podpaths/podpaths/lab/internal/local/pki"
	"github.com/podpaths/podpaths/lab/kube"
)

// Timeouts of the start. Measured here: the node is Ready about 8 s after
// the start, so these only matter when something is wrong.
const (
	daemonTimeout    = 90 * time.Second
	nodeReadyTimeout = 3 * time.Minute
	coreDNSTimeout   = 3 * time.Minute
	crdTimeout       = time.Minute
	podRemoveTimeout = 90 * time.Second
)

// Create brings the cluster up, or checks and completes one that is up:
// packages, builds, network guards, PKI, configs, then the daemons in order,
// each waited for. It returns when every node is Ready.
func (p *Provider) Create(ctx context.Context) error {
	start := p.now()
	if err := requireRoot(); err != nil {
		return err
	}
	c, err := p.cluster()
	if err != nil {
		return err
	}
	nets, err := host.Networks()
	if err != nil {
		return err
	}
	if err := checkRanges(c, nets); err != nil {
		return err
	}
	if err := os.MkdirAll(p.opts.StateDir, 0o755); err != nil {
		return fmt.Errorf("state dir: %w", err)
	}
	if err := p.saveLinkRanges(c); err != nil {
		return err
	}
	if err := build.EnsurePackages(ctx, p.host, p.log); err != nil {
		return err
	}
	b, err := p.builder.EnsureAll(ctx)
	if err != nil {
		return err
	}
	// Guards first: nothing of the cluster runs before they are in place.
	// What the guards and kube-proxy change, as the machine had it.
	if err := guards.RecordSysctls(p.host, p.layout.SysctlsFile()); err != nil {
		return err
	}
	plan := guards.NewPlan(c)
	if err := guards.Apply(ctx, p.host, plan); err != nil {
		return err
	}
	if err := nodes.EnsureOutside(ctx, p.host, c); err != nil {
		return err
	}
	for _, n := range c.Namespaced() {
		if err := nodes.EnsureNamespace(ctx, p.host, c, n); err != nil {
			return err
		}
		if err := nodes.EnsureCgroupRoot(nodes.CgroupFS, n.CgroupRoot); err != nil {
			return err
		}
	}
	if err := guards.ApplyLinkRoutes(ctx, p.host, plan); err != nil {
		return err
	}
	p.log.Info("network guards up", "services", c.ServiceCIDR, "loadbalancers", c.LBCIDR, "pods", c.PodCIDR,
		"outside client", c.Outside.IP.Addr(), "sink", c.SinkBridge, "nodes", len(c.Nodes))
	if err := p.writeConfigs(c); err != nil {
		return err
	}
	if err := p.startControlPlane(ctx, c, b); err != nil {
		return err
	}
	k, err := p.adminKube()
	if err != nil {
		return err
	}
	if err := p.removeExtraNodes(ctx, k, c, b); err != nil {
		return err
	}
	if err := ensureNodeObjects(ctx, k.Kube, c); err != nil {
		return err
	}
	var names []string
	for _, n := range c.Nodes {
		nodeStart := p.now()
		if err := p.startNode(ctx, n, b); err != nil {
			return err
		}
		names = append(names, n.Name)
		if err := waitNodesReady(ctx, k.Kube, []string{n.Name}, nodeReadyTimeout, p.opts.Progress); err != nil {
			return err
		}
		// Measured per node: what node B adds to the start.
		p.log.Info("node ready", "node", n.Name, "ip", n.IP, "pods", n.PodCIDR, "seconds", seconds(p.now().Sub(nodeStart)))
	}
	// kube-proxy put its jumps first in FORWARD and OUTPUT when it started;
	// the guards go back on top, above everything that could accept.
	if err := guards.PlaceJumps(ctx, p.host, plan); err != nil {
		return err
	}
	if err := p.startExternalLB(ctx, c); err != nil {
		return err
	}
	if err := p.writeFacts(c); err != nil {
		return err
	}
	p.log.Info("nodes ready", "nodes", strings.Join(names, ","), "seconds", seconds(p.now().Sub(start)),
		"kubeconfig", p.layout.AdminKubeconfig())
	return nil
}

// writeConfigs writes the PKI and every config file.
func (p *Provider) writeConfigs(c cluster.Cluster) error {
	if err := pki.Ensure(c, p.layout, p.now()); err != nil {
		return err
	}
	files, err := nodeconfig.Shared(p.layout)
	if err != nil {
		return err
	}
	for _, n := range c.Nodes {
		nf, err := nodeconfig.Node(c, p.layout, n)
		if err != nil {
			return err
		}
		files = append(files, nf...)
		nl := p.layout.Node(n.Name)
		for _, d := range []string{nl.ContainerdRoot(), nl.ContainerdState(), nl.CNIIPAM(), nl.Kubelet(), nl.PodLogs(), nl.RuncRoot()} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return fmt.Errorf("node %s: %w", n.Name, err)
			}
		}
	}
	for _, f := range files {
		if err := host.WriteFile(f.Path, f.Data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// startExternalLB renders HAProxy's configuration from the nodes and starts
// it in the outside client; it waits until HAProxy accepts connections.
func (p *Provider) startExternalLB(ctx context.Context, c cluster.Cluster) error {
	cfg, err := nodeconfig.ExternalLB(c, p.opts.NodePort)
	if err != nil {
		return err
	}
	if err := host.WriteFile(p.layout.ExternalLBConfig(), cfg, 0o644); err != nil {
		return err
	}
	lb := daemons.ExternalLB(c, p.layout)
	if err := daemons.Ensure(ctx, p.log, lb); err != nil {
		return err
	}
	addr := c.ExternalLB().String()
	return daemons.WaitFor(ctx, lb.String(), daemonTimeout, 100*time.Millisecond, daemons.Accepts("tcp", addr), &lb)
}

// startControlPlane starts etcd, the API server, the controller manager and
// the scheduler, and publishes the admin kubeconfig once the API answers.
func (p *Provider) startControlPlane(ctx context.Context, c cluster.Cluster, b build.Outputs) error {
	ds := daemons.ControlPlane(c, p.layout, b)
	etcd, api, kcm, sched := ds[0], ds[1], ds[2], ds[3]
	if err := daemons.Ensure(ctx, p.log, etcd); err != nil {
		return err
	}
	if err := waitHealthy(ctx, &etcd, 200*time.Millisecond, daemons.EtcdHealthURL); err != nil {
		return err
	}
	if err := daemons.Ensure(ctx, p.log, api); err != nil {
		return err
	}
	admin, err := os.ReadFile(filepath.Join(p.layout.PKI(), "admin.kubeconfig"))
	if err != nil {
		return fmt.Errorf("admin kubeconfig: %w", err)
	}
	ready, err := apiReady(admin)
	if err != nil {
		return err
	}
	if err := daemons.WaitFor(ctx, "kube-apiserver", daemonTimeout, 250*time.Millisecond, ready, &api); err != nil {
		return err
	}
	// Published only now: a reader (the e2e suite waits for this file) finds
	// an API server that answers.
	if err := host.WriteFile(p.layout.AdminKubeconfig(), admin, 0o600); err != nil {
		return err
	}
	for _, d := range []daemons.Daemon{kcm, sched} {
		if err := daemons.Ensure(ctx, p.log, d); err != nil {
			return err
		}
	}
	if err := waitHealthy(ctx, &kcm, 250*time.Millisecond, daemons.ControllerManagerHealthURL); err != nil {
		return err
	}
	return waitHealthy(ctx, &sched, 250*time.Millisecond, daemons.SchedulerHealthURL)
}

// waitHealthy waits, every interval, until d's health endpoint at url on
// 127.0.0.1 answers 200, or d dies.
func waitHealthy(ctx context.Context, d *daemons.Daemon, interval time.Duration, url string) error {
	return daemons.WaitFor(ctx, d.String(), daemonTimeout, interval, daemons.HTTPOK(daemons.ProbeClient(), url), d)
}

// apiReady checks the API server's /readyz as the admin.
func apiReady(kubeconfig []byte) (func(context.Context) error, error) {
	k, err := kube.FromKubeconfig(kubeconfig)
	if err != nil {
		return nil, err
	}
	cfg := rest.CopyConfig(k.Config)
	cfg.Timeout = 3 * time.Second
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("API client: %w", err)
	}
	return daemons.HTTPOK(client, cfg.Host+"/readyz"), nil
}

// startNode starts a node's containerd, kubelet and kube-proxy.
func (p *Provider) startNode(ctx context.Context, n cluster.Node, b build.Outputs) error {
	ds := daemons.ForNode(p.layout, n, b)
	containerd, kubelet, proxy := ds[0], ds[1], ds[2]
	if err := daemons.Ensure(ctx, p.log, containerd); err != nil {
		return err
	}
	if err := daemons.WaitFor(ctx, containerd.String(), daemonTimeout, 100*time.Millisecond, daemons.SocketUp(p.layout.Node(n.Name).ContainerdSocket()), &containerd); err != nil {
		return err
	}
	for _, d := range []daemons.Daemon{kubelet, proxy} {
		if err := daemons.Ensure(ctx, p.log, d); err != nil {
			return err
		}
	}
	if n.NetNS != "" {
		// Its health endpoints are on its own loopback; Ready on the API
		// is what counts.
		return nil
	}
	if err := waitHealthy(ctx, &kubelet, 250*time.Millisecond, daemons.KubeletHealthURL); err != nil {
		return err
	}
	return waitHealthy(ctx, &proxy, 250*time.Millisecond, daemons.KubeProxyHealthURL)
}

// removeExtraNodes takes down the nodes that an earlier `up` started and
// this one does not ask for (`up` with one node after one with two): their
// processes, pods, namespace and cgroups, and their Node objects.
func (p *Provider) removeExtraNodes(ctx context.Context, k kube.Clients, c cluster.Cluster, b build.Outputs) error {
	all, err := c.WithNodes(cluster.MaxNodes)
	if err != nil {
		return err
	}
	for _, n := range all.Nodes[len(c.Nodes):] {
		if !p.host.Mounted(n.NetNS) && !daemons.Running(daemons.ForNode(p.layout, n, b)[1]) {
			continue
		}
		p.log.Info("removing a node this up does not ask for", "node", n.Name)
		errs := p.stopNode(ctx, n, b)
		errs = append(errs, p.cleanNode(ctx, n, b), nodes.RemoveNamespace(ctx, p.host, n), nodes.RemoveCgroupRoot(nodes.CgroupFS, n.CgroupRoot),
			host.UnmountUnder(p.layout.Node(n.Name).Dir))
		if err := k.Kube.CoreV1().Nodes().Delete(ctx, n.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("delete node %s: %w", n.Name, err))
		}
		if err := errors.Join(errs...); err != nil {
			return err
		}
	}
	return nil
}

// writeFacts writes cluster.json for the e2e suite.
func (p *Provider) writeFacts(c cluster.Cluster) error {
	b, err := facts.Marshal(c.Facts(p.layout.AdminKubeconfig()))
	if err != nil {
		return err
	}
	return host.WriteFile(p.layout.FactsFile(), b, 0o644)
}

func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) }
