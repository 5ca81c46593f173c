package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/podpaths/podpaths/lab/manifest"
	"github.com/podpaths/podpaths/lab/rollout"
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
	if err := ensurePackages(ctx, p.host, p.log); err != nil {
		return err
	}
	b, err := p.builder.ensureAll(ctx)
	if err != nil {
		return err
	}
	// Guards first: nothing of the cluster runs before they are in place.
	if err := os.MkdirAll(p.opts.StateDir, 0o755); err != nil {
		return fmt.Errorf("state dir: %w", err)
	}
	plan := planNetwork(c)
	if err := applyNetwork(ctx, p.host, plan); err != nil {
		return err
	}
	if err := ensureOutside(ctx, p.host, c); err != nil {
		return err
	}
	for _, n := range c.Namespaced() {
		if err := ensureNodeNamespace(ctx, p.host, c, n); err != nil {
			return err
		}
		if err := ensureCgroupRoot(cgroupFS, n.CgroupRoot); err != nil {
			return err
		}
	}
	if err := applyLinkRoutes(ctx, p.host, plan); err != nil {
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
	if err := ensureNodeObjects(ctx, k.client, c); err != nil {
		return err
	}
	if err := recordSysctls(p.host, p.layout.sysctls()); err != nil {
		return err
	}
	var names []string
	for _, n := range c.Nodes {
		nodeStart := p.now()
		if err := p.startNode(ctx, n, b); err != nil {
			return err
		}
		names = append(names, n.Name)
		if err := waitNodesReady(ctx, k.client, []string{n.Name}, nodeReadyTimeout, p.opts.Progress); err != nil {
			return err
		}
		// Measured per node: what node B adds to the start.
		p.log.Info("node ready", "node", n.Name, "ip", n.IP, "pods", n.PodCIDR, "seconds", seconds(p.now().Sub(nodeStart)))
	}
	// kube-proxy put its jumps first in FORWARD and OUTPUT when it started;
	// the guards go back on top, above everything that could accept.
	if err := placeJumps(ctx, p.host, plan.jumps); err != nil {
		return err
	}
	if err := p.writeFacts(c); err != nil {
		return err
	}
	p.log.Info("nodes ready", "nodes", strings.Join(names, ","), "seconds", seconds(p.now().Sub(start)),
		"kubeconfig", p.layout.adminKubeconfig())
	return nil
}

// writeConfigs writes the PKI and every config file.
func (p *Provider) writeConfigs(c Cluster) error {
	if err := ensurePKI(c, p.layout, p.now()); err != nil {
		return err
	}
	files, err := renderShared(p.layout)
	if err != nil {
		return err
	}
	for _, n := range c.Nodes {
		nf, err := renderNode(c, p.layout, n)
		if err != nil {
			return err
		}
		files = append(files, nf...)
		nl := p.layout.node(n.Name)
		for _, d := range []string{nl.containerdRoot(), nl.containerdState(), nl.cniIPAM(), nl.kubelet(), nl.podLogs(), nl.runcRoot()} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return fmt.Errorf("node %s: %w", n.Name, err)
			}
		}
	}
	for _, f := range files {
		if err := writeFile(f.path, f.data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// startControlPlane starts etcd, the API server, the controller manager and
// the scheduler, and publishes the admin kubeconfig once the API answers.
func (p *Provider) startControlPlane(ctx context.Context, c Cluster, b builds) error {
	ds := controlPlane(c, p.layout, b)
	etcd, api, kcm, sched := ds[0], ds[1], ds[2], ds[3]
	if err := p.ensureDaemon(ctx, etcd); err != nil {
		return err
	}
	if err := waitFor(ctx, "etcd", daemonTimeout, 200*time.Millisecond, httpOK(probeClient(), etcdClientURL+"/health"), &etcd); err != nil {
		return err
	}
	if err := p.ensureDaemon(ctx, api); err != nil {
		return err
	}
	admin, err := os.ReadFile(filepath.Join(p.layout.pki(), "admin.kubeconfig"))
	if err != nil {
		return fmt.Errorf("admin kubeconfig: %w", err)
	}
	ready, err := apiReady(admin)
	if err != nil {
		return err
	}
	if err := waitFor(ctx, "kube-apiserver", daemonTimeout, 250*time.Millisecond, ready, &api); err != nil {
		return err
	}
	// Published only now: a reader (the e2e suite waits for this file) finds
	// an API server that answers.
	if err := writeFile(p.layout.adminKubeconfig(), admin, 0o600); err != nil {
		return err
	}
	for _, d := range []daemon{kcm, sched} {
		if err := p.ensureDaemon(ctx, d); err != nil {
			return err
		}
	}
	if err := waitFor(ctx, "kube-controller-manager", daemonTimeout, 250*time.Millisecond, httpOK(probeClient(), kcmHealthURL), &kcm); err != nil {
		return err
	}
	return waitFor(ctx, "kube-scheduler", daemonTimeout, 250*time.Millisecond, httpOK(probeClient(), schedHealth), &sched)
}

// apiReady checks the API server's /readyz as the admin.
func apiReady(kubeconfig []byte) (func(context.Context) error, error) {
	k, err := newKube(kubeconfig)
	if err != nil {
		return nil, err
	}
	cfg := rest.CopyConfig(k.cfg)
	cfg.Timeout = 3 * time.Second
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("API client: %w", err)
	}
	return httpOK(client, cfg.Host+"/readyz"), nil
}

// startNode starts a node's containerd, kubelet and kube-proxy.
func (p *Provider) startNode(ctx context.Context, n Node, b builds) error {
	ds := nodeDaemons(p.layout, n, b)
	containerd, kubelet, proxy := ds[0], ds[1], ds[2]
	if err := p.ensureDaemon(ctx, containerd); err != nil {
		return err
	}
	if err := waitFor(ctx, containerd.String(), daemonTimeout, 100*time.Millisecond, socketUp(p.layout.node(n.Name).containerdSocket()), &containerd); err != nil {
		return err
	}
	for _, d := range []daemon{kubelet, proxy} {
		if err := p.ensureDaemon(ctx, d); err != nil {
			return err
		}
	}
	if n.NetNS != "" {
		// Its health endpoints are on its own loopback; Ready on the API
		// is what counts.
		return nil
	}
	if err := waitFor(ctx, kubelet.String(), daemonTimeout, 250*time.Millisecond, httpOK(probeClient(), kubeletHealth), &kubelet); err != nil {
		return err
	}
	return waitFor(ctx, proxy.String(), daemonTimeout, 250*time.Millisecond, httpOK(probeClient(), proxyHealth), &proxy)
}

// removeExtraNodes takes down the nodes that an earlier `up` started and
// this one does not ask for (`up` with one node after one with two): their
// processes, pods, namespace and cgroups, and their Node objects.
func (p *Provider) removeExtraNodes(ctx context.Context, k kube, c Cluster, b builds) error {
	all, err := NewCluster(c.Name, c.ControlPlane().IP, c.StateDir).WithNodes(MaxNodes)
	if err != nil {
		return err
	}
	for _, n := range all.Nodes[len(c.Nodes):] {
		if !p.host.mounted(n.NetNS) && !daemonRunning(nodeDaemons(p.layout, n, b)[1]) {
			continue
		}
		p.log.Info("removing a node this up does not ask for", "node", n.Name)
		errs := p.stopNode(ctx, n, b)
		errs = append(errs, p.cleanNode(ctx, n, b), removeNodeNamespace(ctx, p.host, n), removeCgroupRoot(cgroupFS, n.CgroupRoot),
			unmountUnder(p.layout.node(n.Name).dir))
		if err := k.client.CoreV1().Nodes().Delete(ctx, n.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("delete node %s: %w", n.Name, err))
		}
		if err := errors.Join(errs...); err != nil {
			return err
		}
	}
	return nil
}

func (p *Provider) adminKube() (kube, error) {
	raw, err := os.ReadFile(p.layout.adminKubeconfig())
	if err != nil {
		return kube{}, fmt.Errorf("admin kubeconfig: %w", err)
	}
	return newKube(raw)
}

// writeFacts writes cluster.json for the e2e suite.
func (p *Provider) writeFacts(c Cluster) error {
	b, err := MarshalFacts(c.Facts(p.layout.adminKubeconfig()))
	if err != nil {
		return err
	}
	return writeFile(p.layout.facts(), b, 0o644)
}

func (p *Provider) facts() (Facts, error) {
	var f Facts
	raw, err := os.ReadFile(p.layout.facts())
	if err != nil {
		return f, err
	}
	return f, json.Unmarshal(raw, &f)
}

// LoadImages imports the image archives into every node's containerd, then
// starts CoreDNS, whose image is one of them: the cluster's DNS can only
// start once its image is there. An archive already imported unchanged into
// a node is skipped.
func (p *Provider) LoadImages(ctx context.Context, archives []string) error {
	c, err := p.cluster()
	if err != nil {
		return err
	}
	// One node's import does not wait for another's: each containerd
	// unpacks into its own store.
	errs := make([]error, len(c.Nodes))
	var wg sync.WaitGroup
	for i, n := range c.Nodes {
		wg.Go(func() { errs[i] = p.importImages(ctx, n, archives) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return p.startCoreDNS(ctx, c)
}

func (p *Provider) importImages(ctx context.Context, n Node, archives []string) error {
	nl := p.layout.node(n.Name)
	markers := filepath.Join(nl.dir, "imported")
	if err := os.MkdirAll(markers, 0o755); err != nil {
		return err
	}
	sort.Strings(archives)
	for _, a := range archives {
		fi, err := os.Stat(a)
		if err != nil {
			return fmt.Errorf("image archive: %w", err)
		}
		// hack/images.sh rewrites an archive only when its image changed.
		id := fmt.Sprintf("%s %d %d\n", a, fi.Size(), fi.ModTime().UnixNano())
		marker := filepath.Join(markers, filepath.Base(a)+".imported")
		if old, err := os.ReadFile(marker); err == nil && string(old) == id {
			continue
		}
		p.log.Info("importing image archive", "node", n.Name, "archive", filepath.Base(a))
		args := []string{"--address", nl.containerdSocket(), "--namespace", "k8s.io", "images", "import", a}
		if _, err := p.host.run(ctx, nil, "ctr", args...); err != nil {
			return fmt.Errorf("import %s into %s: %w", filepath.Base(a), n.Name, err)
		}
		if err := os.WriteFile(marker, []byte(id), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// startCoreDNS applies CoreDNS and waits for it.
func (p *Provider) startCoreDNS(ctx context.Context, c Cluster) error {
	version, _, _, _, err := p.builder.lookup(mustComponent("coredns"))
	if err != nil {
		return err
	}
	raw, err := renderCoreDNS(c, version)
	if err != nil {
		return err
	}
	objs, err := decodeYAML(raw)
	if err != nil {
		return fmt.Errorf("coredns manifests: %w", err)
	}
	k, err := p.adminKube()
	if err != nil {
		return err
	}
	if err := k.apply(ctx, objs); err != nil {
		return err
	}
	waitCtx, cancel := context.WithTimeout(ctx, coreDNSTimeout)
	defer cancel()
	if err := rollout.Wait(waitCtx, k.client, "kube-system", false, 500*time.Millisecond, p.opts.Progress); err != nil {
		return fmt.Errorf("CoreDNS: %w", err)
	}
	return nil
}

// StartLoadBalancer applies MetalLB's CRDs and deploy/local-lb's address
// pool, and starts MetalLB's controller. It always reports true: the
// controller is part of the cluster.
func (p *Provider) StartLoadBalancer(ctx context.Context) (bool, error) {
	c, err := p.cluster()
	if err != nil {
		return false, err
	}
	b, err := p.builder.ensureAll(ctx)
	if err != nil {
		return false, err
	}
	k, err := p.adminKube()
	if err != nil {
		return false, err
	}
	crds, err := filepath.Glob(filepath.Join(b.dirs["metallb"], "crds", "*.yaml"))
	if err != nil || len(crds) == 0 {
		return false, fmt.Errorf("MetalLB CRDs missing in %s", b.dirs["metallb"])
	}
	var names []string
	for _, f := range crds {
		raw, err := os.ReadFile(f)
		if err != nil {
			return false, err
		}
		objs, err := decodeYAML(raw)
		if err != nil {
			return false, fmt.Errorf("%s: %w", f, err)
		}
		for _, o := range objs {
			names = append(names, o.GetName())
		}
		if err := k.apply(ctx, objs); err != nil {
			return false, err
		}
	}
	if err := k.waitEstablished(ctx, names, crdTimeout); err != nil {
		return false, err
	}
	pool, err := manifest.Render(filesys.MakeFsOnDisk(), filepath.Join(p.opts.Root, "deploy", "local-lb"))
	if err != nil {
		return false, err
	}
	if err := k.apply(ctx, pool); err != nil {
		return false, err
	}
	d := metalLBController(p.layout, b)
	if err := p.ensureDaemon(ctx, d); err != nil {
		return false, err
	}
	metrics := "http://127.0.0.1:" + strconv.Itoa(metallbPort) + "/metrics"
	if err := waitFor(ctx, d.String(), daemonTimeout, 250*time.Millisecond, httpOK(&http.Client{Timeout: 3 * time.Second}, metrics), &d); err != nil {
		return false, err
	}
	// The Docker engine that hack/images.sh may have started since Create put
	// its jumps first; the guards go back on top.
	if err := placeJumps(ctx, p.host, planNetwork(c).jumps); err != nil {
		return false, err
	}
	p.log.Info("LoadBalancer controller up", "pool", "deploy/local-lb", "range", c.LBCIDR)
	return true, nil
}

// mustComponent returns the component named name, one of the constants in
// components.
func mustComponent(name string) component {
	for _, c := range components {
		if c.name == name {
			return c
		}
	}
	panic("no component " + name)
}

func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) }
