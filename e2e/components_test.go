//go:build e2e

package e2e

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/podpaths/podpaths/e2e/internal/cluster"
	"github.com/podpaths/podpaths/lab/manifest"
)

// rolloutTimeout bounds one rollout of a lab workload. The StatefulSet
// replaces its pods one at a time, each draining for its drain delay first.
const rolloutTimeout = 4 * time.Minute

// applyComponent applies one of deploy/'s components to the running lab,
// waits for the given workloads to roll, and registers the undoing: the
// component taken off, the workloads rolled back and ready.
func (r *run) applyComponent(t *testing.T, name string, rolls ...cluster.Workload) {
	t.Helper()
	changes, err := manifest.ComponentChanges(r.env.Opts.DeployDir, name)
	if err != nil {
		t.Fatal(err)
	}
	c := r.env.Manifests()
	r.undo("component "+name, 2*rolloutTimeout, func(ctx context.Context) error {
		if err := c.RevertChanges(ctx, changes); err != nil {
			return err
		}
		return r.waitWorkloads(ctx, rolls)
	})
	if err := c.ApplyChanges(r.ctx, changes); err != nil {
		t.Fatal(err)
	}
	for _, ch := range changes {
		t.Logf("component %s: %s", name, ch.Describe())
	}
	if err := r.waitWorkloads(r.ctx, rolls); err != nil {
		t.Fatal(err)
	}
}

// waitWorkloads waits for several workloads at once: their rollouts run in
// parallel.
func (r *run) waitWorkloads(ctx context.Context, ws []cluster.Workload) error {
	errs := make([]error, len(ws))
	var wg sync.WaitGroup
	for i, w := range ws {
		wg.Go(func() { errs[i] = r.env.WaitWorkload(ctx, w, rolloutTimeout) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
