package local

import (
	"context"
	"fmt"
	"slices"

	"github.com/podpaths/podpaths/lab/internal/local/cluster"
	"github.com/podpaths/podpaths/lab/internal/local/daemons"
	"github.com/podpaths/podpaths/lab/internal/local/nodes"
)

// The workshop's drills stop and start a node's daemons: on this cluster
// they are processes of this machine. Stop sends SIGTERM, after which
// kube-proxy leaves its iptables rules and the kubelet its containers, as
// after a crash.

// Stop stops daemon ("kube-proxy" or "kubelet") on node.
func (p *Provider) Stop(ctx context.Context, node, daemon string) error {
	d, err := p.nodeDaemon(node, daemon)
	if err != nil {
		return err
	}
	return daemons.Stop(ctx, p.log, d)
}

// Start starts daemon on node again, as `up` started it.
func (p *Provider) Start(ctx context.Context, node, daemon string) error {
	d, err := p.nodeDaemon(node, daemon)
	if err != nil {
		return err
	}
	return daemons.Ensure(ctx, p.log, d)
}

// nodeDaemon finds a node's daemon by name.
func (p *Provider) nodeDaemon(node, name string) (daemons.Daemon, error) {
	c, err := p.running()
	if err != nil {
		return daemons.Daemon{}, err
	}
	i := slices.IndexFunc(c.Nodes, func(n cluster.Node) bool { return n.Name == node })
	if i < 0 {
		return daemons.Daemon{}, fmt.Errorf("no node %q", node)
	}
	// The cluster is up, so its programs are built.
	ds := daemons.ForNode(p.layout, c.Nodes[i], p.builder.Locate())
	j := slices.IndexFunc(ds, func(d daemons.Daemon) bool { return d.Name() == name })
	if j < 0 || name == "containerd" {
		return daemons.Daemon{}, fmt.Errorf("no daemon %q on a node (kube-proxy or kubelet)", name)
	}
	return ds[j], nil
}

// RouteServices gives the outside client a route to the Service range
// through node A (add), or takes it away, for the workshop's exercise on
// why a ClusterIP is cluster-internal.
func (p *Provider) RouteServices(ctx context.Context, add bool) error {
	c, err := p.running()
	if err != nil {
		return err
	}
	return nodes.RouteServices(ctx, p.host, c, add)
}

// OutsideIP is the outside client's address.
func (p *Provider) OutsideIP() (string, error) {
	c, err := p.running()
	if err != nil {
		return "", err
	}
	return c.Outside.IP.Addr().String(), nil
}
