package local

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/podpaths/podpaths/lab/internal/local/daemons"
	"github.com/podpaths/podpaths/lab/internal/local/guards"
	"github.com/podpaths/podpaths/lab/manifest"
)

// StartLoadBalancer applies MetalLB's CRDs and deploy/local-lb's address
// pool, and starts MetalLB's controller. It always reports true: the
// controller is part of the cluster.
func (p *Provider) StartLoadBalancer(ctx context.Context) (bool, error) {
	c, err := p.cluster()
	if err != nil {
		return false, err
	}
	b, err := p.builder.EnsureAll(ctx)
	if err != nil {
		return false, err
	}
	k, err := p.adminKube()
	if err != nil {
		return false, err
	}
	crds, err := filepath.Glob(filepath.Join(b.Dir("metallb"), "crds", "*.yaml"))
	if err != nil || len(crds) == 0 {
		return false, fmt.Errorf("MetalLB CRDs missing in %s", b.Dir("metallb"))
	}
	var names []string
	for _, f := range crds {
		raw, err := os.ReadFile(f)
		if err != nil {
			return false, err
		}
		objs, err := manifest.Decode(raw)
		if err != nil {
			return false, fmt.Errorf("%s: %w", f, err)
		}
		for _, o := range objs {
			names = append(names, o.GetName())
		}
		if err := apply(ctx, k, objs); err != nil {
			return false, err
		}
	}
	if err := waitEstablished(ctx, k, names, crdTimeout); err != nil {
		return false, err
	}
	pool, err := manifest.Render(filesys.MakeFsOnDisk(), filepath.Join(p.opts.Root, "deploy", "local-lb"))
	if err != nil {
		return false, err
	}
	if err := apply(ctx, k, pool); err != nil {
		return false, err
	}
	d := daemons.MetalLBController(p.layout, b)
	if err := daemons.Ensure(ctx, p.log, d); err != nil {
		return false, err
	}
	metrics := "http://127.0.0.1:" + strconv.Itoa(daemons.MetalLBPort) + "/metrics"
	if err := daemons.WaitFor(ctx, d.String(), daemonTimeout, 250*time.Millisecond, daemons.HTTPOK(&http.Client{Timeout: 3 * time.Second}, metrics), &d); err != nil {
		return false, err
	}
	// The Docker engine that hack/images.sh may have started since Create put
	// its jumps first; the guards go back on top.
	if err := guards.PlaceJumps(ctx, p.host, guards.NewPlan(c)); err != nil {
		return false, err
	}
	p.log.Info("LoadBalancer controller up", "pool", "deploy/local-lb", "range", c.LBCIDR)
	return true, nil
}
