package local

import (
	"context"
	"fmt"

	"github.com/podpaths/podpaths/lab/internal/local/cluster"
	"github.com/podpaths/podpaths/lab/internal/local/guards"
)

// CheckGuards compares the live iptables guards with the plan `up` applied
// (guards.Check): a difference is a hole in what keeps the cluster's
// packets on this machine.
func (p *Provider) CheckGuards(ctx context.Context) error {
	c, err := p.running()
	if err != nil {
		return err
	}
	return guards.Check(ctx, p.host, guards.NewPlan(c))
}

// running describes the cluster that is up, with as many nodes as `up`
// started (cluster.json says).
func (p *Provider) running() (cluster.Cluster, error) {
	f, err := p.facts()
	if err != nil {
		return cluster.Cluster{}, fmt.Errorf("the local cluster is not up: %w", err)
	}
	return p.clusterOf(len(f.Nodes))
}
