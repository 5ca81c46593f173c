package local

import (
	"context"
	"fmt"

	"github.com/podpaths/podpaths/lab/internal/local/guards"
)

// CheckGuards compares the live iptables guards with the plan `up` applied
// (guards.Check): a difference is a hole in what keeps the cluster's
// packets on this machine.
func (p *Provider) CheckGuards(ctx context.Context) error {
	f, err := p.facts()
	if err != nil {
		return fmt.Errorf("the local cluster is not up: %w", err)
	}
	c, err := p.clusterOf(len(f.Nodes))
	if err != nil {
		return err
	}
	return guards.Check(ctx, p.host, guards.NewPlan(c))
}
