package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/podpaths/podpaths/lab/internal/local/cluster"
	"github.com/podpaths/podpaths/lab/internal/local/nodeconfig"
	"github.com/podpaths/podpaths/lab/manifest"
	"github.com/podpaths/podpaths/lab/rollout"
)

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

// importImages imports the archives into node n's containerd, skipping each
// one a marker says went in unchanged before: a second `up` imports nothing.
func (p *Provider) importImages(ctx context.Context, n cluster.Node, archives []string) error {
	nl := p.layout.Node(n.Name)
	markers := filepath.Join(nl.Dir, "imported")
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
		args := []string{"--address", nl.ContainerdSocket(), "--namespace", "k8s.io", "images", "import", a}
		if _, err := p.host.Run(ctx, nil, "ctr", args...); err != nil {
			return fmt.Errorf("import %s into %s: %w", filepath.Base(a), n.Name, err)
		}
		if err := os.WriteFile(marker, []byte(id), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// startCoreDNS applies CoreDNS and waits for it.
func (p *Provider) startCoreDNS(ctx context.Context, c cluster.Cluster) error {
	version, err := p.builder.Version("coredns")
	if err != nil {
		return err
	}
	raw, err := nodeconfig.CoreDNS(c, version)
	if err != nil {
		return err
	}
	objs, err := manifest.Decode(raw)
	if err != nil {
		return fmt.Errorf("coredns manifests: %w", err)
	}
	k, err := p.adminKube()
	if err != nil {
		return err
	}
	if err := apply(ctx, k, objs); err != nil {
		return err
	}
	waitCtx, cancel := context.WithTimeout(ctx, coreDNSTimeout)
	defer cancel()
	if err := rollout.Wait(waitCtx, k.Kube, "kube-system", false, 500*time.Millisecond, p.opts.Progress); err != nil {
		return fmt.Errorf("CoreDNS: %w", err)
	}
	return nil
}
