package kind

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/podpaths/podpaths/lab/internal/externallb"
	"github.com/podpaths/podpaths/lab/kindlab"
	"github.com/podpaths/podpaths/lab/kube"
)

// The external load balancer: HAProxy in a container beside kind's nodes, on
// their Docker network, with one server per node's NodePort, rendered from
// the Node list. This machine reaches it on loopback only, where Docker
// publishes it (as kind publishes the NodePort), on every OS.

// DefaultExternalLBImage is HAProxy's official image, a long-term-support
// release. CI, which cannot pull, builds one from Debian's HAProxy.
const DefaultExternalLBImage = "docker.io/library/haproxy:3.2"

const (
	// externalLBPort is HAProxy's port in its container; unprivileged, as
	// the official image runs as its own user.
	externalLBPort = 8080
	// externalLBConfig is where the official image reads its configuration.
	externalLBConfig = "/usr/local/etc/haproxy/haproxy.cfg"
	// kindNetwork is the Docker network kind puts the nodes on.
	kindNetwork = "kind"
	// externalLBStart bounds the wait for HAProxy's first answer.
	externalLBStart = time.Minute
)

// startExternalLB replaces the load balancer's container with one rendered
// from the nodes as they are now (a hand-made target list is written once;
// `up` writes it again) and waits until HAProxy answers. The cluster works
// without it, so a failure is logged, and `make check` says why its rows are
// skipped.
func (p *Provider) startExternalLB(ctx context.Context, client kubernetes.Interface) {
	if err := p.runExternalLB(ctx, client); err != nil {
		p.log.Warn("the external load balancer in front of the NodePorts is not running; its rows in make check are skipped",
			"err", err)
		return
	}
	p.log.Info("external load balancer in front of every node's NodePort", "url", "http://"+kindlab.ExternalLBAddr()+"/",
		"container", kindlab.ExternalLBName(p.opts.Name), "image", p.opts.ExternalLBImage)
}

func (p *Provider) runExternalLB(ctx context.Context, client kubernetes.Interface) error {
	cfg, err := p.externalLBConfig(ctx, client)
	if err != nil {
		return err
	}
	file := filepath.Join(p.opts.StateDir, "external-lb.cfg")
	if err := writeFile(file, cfg); err != nil {
		return err
	}
	name := kindlab.ExternalLBName(p.opts.Name)
	if err := p.removeExternalLB(ctx); err != nil {
		return err
	}
	// Created, given its configuration, then started: docker cp works with
	// every Docker, where a bind mount needs a path the engine can see.
	if _, err := kindlab.Docker(ctx, "create", "--name", name, "--network", kindNetwork,
		"--label", externalLBLabel+"="+p.opts.Name,
		"--publish", fmt.Sprintf("127.0.0.1:%d:%d", kindlab.ExternalLBHostPort, externalLBPort),
		p.opts.ExternalLBImage, "haproxy", "-db", "-f", externalLBConfig); err != nil {
		return err
	}
	if _, err := kindlab.Docker(ctx, "cp", file, name+":"+externalLBConfig); err != nil {
		return err
	}
	if _, err := kindlab.Docker(ctx, "start", name); err != nil {
		return err
	}
	return waitForHTTP(ctx, "http://"+kindlab.ExternalLBAddr()+"/", externalLBStart)
}

// externalLBLabel marks the container as the lab's, with the cluster's name.
const externalLBLabel = "io.podpaths.external-lb"

// externalLBConfig renders HAProxy's configuration with a server per node.
func (p *Provider) externalLBConfig(ctx context.Context, client kubernetes.Interface) ([]byte, error) {
	list, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("external load balancer: list nodes: %w", err)
	}
	cfg := externallb.Config{
		Listen: net.JoinHostPort("0.0.0.0", strconv.Itoa(externalLBPort)),
		Where:  "a container beside kind's nodes, on their Docker network",
	}
	for _, n := range list.Items {
		if !kube.BehindExternalLB(&n) {
			continue
		}
		ip, err := netip.ParseAddr(kube.InternalIP(&n))
		if err != nil {
			return nil, fmt.Errorf("external load balancer: node %s has no InternalIP", n.Name)
		}
		cfg.Servers = append(cfg.Servers, externallb.Server{Name: n.Name, Addr: netip.AddrPortFrom(ip, uint16(p.opts.NodePort))})
	}
	return externallb.Render(cfg)
}

// ExternalLB is the load balancer's address while its container runs.
func (p *Provider) ExternalLB() (string, string) {
	return kindlab.ExternalLB(context.Background(), p.opts.Name)
}

// removeExternalLB removes the container, if there is one. Without the
// docker CLI there can be none.
func (p *Provider) removeExternalLB(ctx context.Context) error {
	if _, err := exec.LookPath("docker"); err != nil {
		return nil
	}
	out, err := kindlab.Docker(ctx, "ps", "--all", "--quiet", "--filter", "label="+externalLBLabel+"="+p.opts.Name)
	if err != nil || len(out) == 0 {
		return err
	}
	_, err = kindlab.Docker(ctx, append([]string{"rm", "--force"}, strings.Fields(string(out))...)...)
	return err
}

// waitForHTTP waits until url gives any HTTP answer: Docker accepts on the
// published port before HAProxy listens behind it. HAProxy's own answer may
// take a few seconds when no node serves the NodePort yet (before `up`
// deploys the lab: 503 after its retries).
func waitForHTTP(ctx context.Context, url string, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	client := &http.Client{Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			_ = resp.Body.Close() //nolint:errcheck // read-only body
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s gave no answer within %s: %w", url, within, errors.Join(last, ctx.Err()))
		case <-tick.C:
		}
	}
}
