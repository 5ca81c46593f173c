package local

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/podpaths/podpaths/lab/internal/local/build"
	"github.com/podpaths/podpaths/lab/internal/local/cluster"
	"github.com/podpaths/podpaths/lab/internal/local/daemons"
	"github.com/podpaths/podpaths/lab/internal/local/guards"
	"github.com/podpaths/podpaths/lab/internal/local/host"
	"github.com/podpaths/podpaths/lab/internal/local/nodes"
)

// Delete stops every process of the cluster and removes what Create added:
// pods and their network namespaces, the CNI bridge, kube-proxy's and the
// kubelet's iptables chains, the guards, routes, the sink bridge, the outside
// client, the mounts and the state. It keeps the build cache and each node's
// containerd image store, so the next `up` is quick. It works whatever state
// the cluster is in, including none, and tries every step even when one
// fails.
func (p *Provider) Delete(ctx context.Context) error {
	start := p.now()
	if err := requireRoot(); err != nil {
		return err
	}
	// Every node the cluster may have, whatever the last `up` asked for: a
	// node that is not there costs a few checks.
	c, err := p.clusterOf(cluster.MaxNodes)
	if err != nil {
		// Teardown needs no node IP; only the names and ranges.
		p.log.Debug("no node IP; tearing down anyway", "err", err)
		r, _ := p.savedLinkRanges() // the defaults when unreadable
		c, _ = cluster.New(p.opts.Name, netip.Addr{}, p.opts.StateDir).WithLinkRanges(r)
		c, _ = c.WithNodes(cluster.MaxNodes)
	}
	b := p.builder.Locate()
	var errs []error
	step := func(err error) {
		if err != nil {
			p.log.Warn("teardown step failed; going on", "err", err)
			errs = append(errs, err)
		}
	}

	step(daemons.Stop(ctx, p.log, daemons.ExternalLB(c, p.layout)))
	step(daemons.Stop(ctx, p.log, daemons.MetalLBController(p.layout, b)))
	for _, n := range slices.Backward(c.Nodes) {
		for _, err := range p.stopNode(ctx, n, b) {
			step(err)
		}
	}
	cp := daemons.ControlPlane(c, p.layout, b)
	step(daemons.StopAll(ctx, p.log, cp[1:])) // API server, controller manager, scheduler
	step(daemons.Stop(ctx, p.log, cp[0]))

	for _, n := range c.Nodes {
		step(p.cleanNode(ctx, n, b))
	}
	for _, n := range c.Namespaced() {
		step(nodes.RemoveNamespace(ctx, p.host, n))
		step(nodes.RemoveCgroupRoot(nodes.CgroupFS, n.CgroupRoot))
	}
	step(guards.RestoreSysctls(p.host, p.layout.SysctlsFile()))
	step(nodes.RemoveOutside(ctx, p.host, c))
	step(guards.Remove(ctx, p.host, guards.NewPlan(c)))
	step(p.removeState(c))
	if len(errs) > 0 {
		return fmt.Errorf("local cluster teardown: %w", errors.Join(errs...))
	}
	p.log.Info("local cluster down", "seconds", seconds(p.now().Sub(start)), "kept", "build cache, image store")
	return nil
}

// stopNode stops a node's kubelet and kube-proxy, removes its pods, stops
// its containerd and kills shims that outlived it; every step is tried.
func (p *Provider) stopNode(ctx context.Context, n cluster.Node, b build.Outputs) []error {
	ds := daemons.ForNode(p.layout, n, b)
	return []error{
		daemons.StopAll(ctx, p.log, ds[1:]), // kubelet and kube-proxy
		p.removePods(ctx, n, ds[0], b),
		daemons.Stop(ctx, p.log, ds[0]),
		daemons.KillShims(p.layout.Node(n.Name).ContainerdSocket()),
	}
}

// removePods removes every pod sandbox through the CRI while containerd
// still runs: that runs the CNI DEL, which frees the pod's address and
// deletes its /run/netns/cni-* namespace. Stopping containerd first would
// leave those behind. A containerd that died (a half-failed `up`) is started
// again for this.
func (p *Provider) removePods(ctx context.Context, n cluster.Node, containerd daemons.Daemon, b build.Outputs) error {
	nl := p.layout.Node(n.Name)
	_, statErr := os.Stat(containerd.PidFile())
	if !daemons.Running(containerd) {
		if statErr != nil {
			return nil // never started, or stopped cleanly by an earlier down
		}
		if _, err := os.Stat(containerd.Program()); err != nil {
			return nil
		}
		p.log.Info("starting containerd again to remove its pods", "node", n.Name)
		if err := daemons.Ensure(ctx, p.log, containerd); err != nil {
			return err
		}
		if err := daemons.WaitFor(ctx, containerd.String(), daemonTimeout, 100*time.Millisecond, daemons.SocketUp(nl.ContainerdSocket()), &containerd); err != nil {
			return err
		}
	}
	crictl := b.Bin("crictl")
	if _, err := os.Stat(crictl); err != nil {
		return fmt.Errorf("node %s: no crictl to remove pods with (%w)", n.Name, err)
	}
	endpoint := "unix://" + nl.ContainerdSocket()
	rmCtx, cancel := context.WithTimeout(ctx, podRemoveTimeout)
	defer cancel()
	args := []string{"--runtime-endpoint", endpoint, "--image-endpoint", endpoint, "--timeout", "60s", "rmp", "--all", "--force"}
	if n.NetNS != "" {
		args = append([]string{"--net=" + n.NetNS, crictl}, args...)
		crictl = "nsenter"
	}
	if _, err := p.host.Run(rmCtx, nil, crictl, args...); err != nil {
		return fmt.Errorf("node %s: remove pods: %w", n.Name, err)
	}
	return nil
}

// cleanNode removes what a node's kubelet and kube-proxy leave in the host:
// their iptables chains, the CNI bridge, the pods' cgroups and the log links.
func (p *Provider) cleanNode(ctx context.Context, n cluster.Node, b build.Outputs) error {
	var errs []error
	if n.NetNS == "" {
		proxy := b.Bin("kube-proxy")
		if _, err := os.Stat(proxy); err == nil {
			// Removes kube-proxy's chains, and the nftables ones it might have.
			if out, err := p.host.Run(ctx, nil, proxy, "--cleanup"); err != nil {
				p.log.Debug("kube-proxy --cleanup", "err", err, "output", host.Tail([]byte(out), 5))
			}
		}
		// The kubelet's chains (KUBE-FIREWALL, KUBE-KUBELET-CANARY, ...) and
		// whatever else of kube-proxy's is left: in the host's namespace every
		// KUBE-* chain belongs to this cluster.
		for _, tool := range []string{"iptables", "ip6tables"} {
			errs = append(errs, sweepKubeChains(ctx, p.host, tool))
		}
		errs = append(errs, host.DeleteLink(ctx, p.host, n.Bridge))
	}
	errs = append(errs, nodes.RemoveKubepodsCgroups(n.CgroupRoot))
	errs = append(errs, removeLogLinks(p.layout.Node(n.Name).PodLogs()))
	return errors.Join(errs...)
}

// sweepKubeChains removes every KUBE-* chain and every jump to one, with one
// iptables-restore transaction per table.
func sweepKubeChains(ctx context.Context, h host.Runner, tool string) error {
	var errs []error
	for _, table := range []string{"filter", "nat", "mangle"} {
		save, err := h.Run(ctx, nil, tool+"-save", "-t", table)
		if err != nil {
			continue // no such table, or no ip6tables here
		}
		script := kubeChainSweep(table, save)
		if script == "" {
			continue
		}
		if _, err := h.Run(ctx, []byte(script), tool+"-restore", host.IptablesWait("--noflush")...); err != nil {
			errs = append(errs, fmt.Errorf("%s %s: remove KUBE chains: %w", tool, table, err))
		}
	}
	return errors.Join(errs...)
}

// kubeChainSweep turns `iptables-save -t table` output into the
// iptables-restore input that deletes the jumps into KUBE-* chains from the
// other chains, empties the KUBE-* chains and deletes them. "" when there is
// nothing to remove. Rules are copied as iptables-save wrote them, so their
// quoting survives.
func kubeChainSweep(table, save string) string {
	var chains, jumps []string
	for line := range strings.SplitSeq(save, "\n") {
		switch {
		case strings.HasPrefix(line, ":KUBE-"):
			chains = append(chains, strings.Fields(line[1:])[0])
		case strings.HasPrefix(line, "-A ") && !strings.HasPrefix(line, "-A KUBE-") &&
			(strings.Contains(line, " -j KUBE-") || strings.Contains(line, " -g KUBE-")):
			jumps = append(jumps, "-D "+line[3:])
		}
	}
	if len(chains) == 0 && len(jumps) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "*%s\n", table)
	for _, j := range jumps {
		b.WriteString(j + "\n")
	}
	for _, c := range chains {
		fmt.Fprintf(&b, ":%s - [0:0]\n", c)
	}
	for _, c := range chains {
		fmt.Fprintf(&b, "-X %s\n", c)
	}
	b.WriteString("COMMIT\n")
	return b.String()
}

// removeLogLinks removes the kubelet's /var/log/containers links into the
// node's pod log directory.
func removeLogLinks(podLogs string) error {
	entries, err := os.ReadDir("/var/log/containers")
	if err != nil {
		return nil //nolint:nilerr // no directory, no links
	}
	var errs []error
	for _, e := range entries {
		link := filepath.Join("/var/log/containers", e.Name())
		target, err := os.Readlink(link)
		if err != nil || !strings.HasPrefix(target, podLogs+"/") {
			continue
		}
		if err := os.Remove(link); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// removeState unmounts what is still mounted under the state directory (pod
// volumes, sandbox /dev/shm, container root filesystems) and removes the
// state, except each node's image store. It refuses to delete while a mount
// remains: removing files through a bind mount would delete them at the
// mount's source.
func (p *Provider) removeState(c cluster.Cluster) error {
	if err := host.UnmountUnder(p.opts.StateDir); err != nil {
		return err
	}
	var keep []string
	for _, n := range c.Nodes {
		keep = append(keep, p.layout.Node(n.Name).ContainerdRoot())
	}
	return removeAllExcept(p.opts.StateDir, keep)
}

// removeAllExcept removes dir's content except the paths in keep and the
// directories that lead to them.
func removeAllExcept(dir string, keep []string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		switch {
		case slices.Contains(keep, path):
		case e.IsDir() && slices.ContainsFunc(keep, func(k string) bool { return strings.HasPrefix(k, path+"/") }):
			errs = append(errs, removeAllExcept(path, keep))
		default:
			errs = append(errs, os.RemoveAll(path))
		}
	}
	return errors.Join(errs...)
}
