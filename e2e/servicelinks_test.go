//go:build e2e

package e2e

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/podpaths/podpaths/e2e/internal/cluster"
	"github.com/podpaths/podpaths/lab/manifest"
	"github.com/podpaths/podpaths/platform/discovery"
	"github.com/podpaths/podpaths/platform/report"
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

// TestServiceLinksOff applies the no-service-links component
// (enableServiceLinks: false): the kubelet injects no *_SERVICE_HOST, so
// the env path reports unconfigured (skipped, not failed), and DNS finds the
// backend as before.
func TestServiceLinksOff(t *testing.T) {
	r := begin(t, 3*rolloutTimeout)
	r.applyComponent(t, "no-service-links", cluster.Frontend, cluster.Backend)
	rep := r.pathReport(t)

	t.Run("env-path-unconfigured", func(t *testing.T) {
		p := findPath(t, rep, report.FrontendBackendID(report.MethodEnv))
		if p.ErrorKind != report.ErrorUnconfigured || p.Outcome() != report.OutcomeSkip {
			t.Errorf("with enableServiceLinks false: %s (outcome %s); want error_kind unconfigured, counted as skipped", describePath(p), p.Outcome())
		}
	})
	t.Run("dns-path-works", func(t *testing.T) {
		if p := findPath(t, rep, report.FrontendBackendID(report.MethodDNS)); !p.OK {
			t.Errorf("with enableServiceLinks false: %s; want ok: DNS does not depend on service links", describePath(p))
		}
	})
	t.Run("no-links-in-frontend", func(t *testing.T) {
		var links report.Links
		getJSON(t, r.ctx, r.entry(t)+"/api/links", &links)
		// The kubelet injects the API server's own Service, from the
		// default namespace, whatever enableServiceLinks says.
		var ours []string
		for _, l := range links.Links {
			if !strings.HasPrefix(l.Name, "KUBERNETES_") {
				ours = append(ours, l.Name)
			}
		}
		if len(ours) > 0 {
			t.Errorf("/api/links with enableServiceLinks false has %v; want none but KUBERNETES_SERVICE_*", ours)
		}
	})
}

// TestServiceLinksStartOrder proves that service links are written once, when
// a container starts: a pod started before its Service has no
// <SVC>_SERVICE_HOST (DNS finds the Service regardless), and has it once the
// pod is started again.
func TestServiceLinksStartOrder(t *testing.T) {
	r := begin(t, 3*time.Minute)
	name := "e2e-probe-early-" + cluster.RandSuffix()
	early := r.startProbe(t, cluster.ProbeOptions{Name: name})
	late := "e2e-late-" + cluster.RandSuffix()
	svc := r.createService(t, late, map[string]string{cluster.LabelName: "backend"})
	hostVar := discovery.EnvPrefix(late) + "_SERVICE_HOST"
	portVar := discovery.EnvPrefix(late) + "_SERVICE_PORT"

	t.Run("started-before-service/no-env", func(t *testing.T) {
		env := probeEnviron(t, r.ctx, early)
		if v, ok := env[hostVar]; ok {
			t.Errorf("pod %s, started before Service %s, has %s=%q; want it unset", early.Pod.Name, late, hostVar, v)
		}
	})
	t.Run("started-before-service/dns-works", func(t *testing.T) {
		a := probeLookup(t, r.ctx, early, late)
		if !slices.Equal(a.Addresses, []string{svc.Spec.ClusterIP}) {
			t.Errorf("lookup %s from pod %s: %v (%s %s); want its clusterIP %s", late, early.Pod.Name, a.Addresses, a.ErrorKind, a.Error, svc.Spec.ClusterIP)
		}
	})
	t.Run("restarted/env-set", func(t *testing.T) {
		if err := early.Delete(r.ctx); err != nil {
			t.Fatal(err)
		}
		again := r.startProbe(t, cluster.ProbeOptions{Name: name})
		env := probeEnviron(t, r.ctx, again)
		if env[hostVar] != svc.Spec.ClusterIP || env[portVar] != strconv.Itoa(backendPort) {
			t.Errorf("pod %s started again after Service %s: %s=%q %s=%q; want %s and %d",
				name, late, hostVar, env[hostVar], portVar, env[portVar], svc.Spec.ClusterIP, backendPort)
		}
	})
}
