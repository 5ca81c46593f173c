package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/podpaths/podpaths/lab/internal/status"
	"github.com/podpaths/podpaths/lab/kube"
	"github.com/podpaths/podpaths/lab/manifest"
	"github.com/podpaths/podpaths/lab/rollout"
)

// lab up: create or update the lab, deploy it, wait, and say where to look.

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
func (a *app) waitReady(ctx context.Context, c kube.Clients, wait time.Duration, lbController bool, lbWait time.Duration) error {
	waitCtx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	if err := rollout.Wait(waitCtx, c.Kube, a.g.namespace, false, pollInterval, a.stderr); err != nil {
		return err
	}
	if !lbController {
		return nil
	}
	lbCtx, cancel := context.WithTimeout(ctx, lbWait)
	defer cancel()
	err := rollout.Wait(lbCtx, c.Kube, a.g.namespace, true, pollInterval, a.stderr)
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
func (a *app) deploy(ctx context.Context, c kube.Clients, overlay string) error {
	dir := filepath.Join(a.g.root, overlay)
	objs, err := manifest.Render(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return err
	}
	a.log.Info("applying", "overlay", overlay, "objects", len(objs))
	return manifest.Apply(ctx, c.Dynamic, c.Mapper, objs, func(what string) {
		a.log.Debug("applied", "object", what)
	})
}

// printURLs says where to look: the dashboard through the NodePort on this
// machine, the LoadBalancer address and the external load balancer.
func (a *app) printURLs(ctx context.Context, c kube.Clients, p provider) error {
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
	if addr, _ := p.ExternalLB(); addr != "" {
		fmt.Fprintf(&b, "  dashboard via external LB:  %s\n", localURL(addr))
	}
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

func (a *app) lbURL(ctx context.Context, c kube.Clients) string {
	svc, err := c.Kube.CoreV1().Services(a.g.namespace).Get(ctx, "frontend", metav1.GetOptions{})
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
