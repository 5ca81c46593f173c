package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
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
	c, err := p.clusterOf(MaxNodes)
	if err != nil {
		// Teardown needs no node IP; only the names and ranges.
		p.log.Debug("no node IP; tearing down anyway", "err", err)
		c, _ = NewCluster(p.opts.Name, netip.Addr{}, p.opts.StateDir).WithNodes(MaxNodes)
	}
	b := p.builder.locate()
	var errs []error
	step := func(err error) {
		if err != nil {
			p.log.Warn("teardown step failed; going on", "err", err)
			errs = append(errs, err)
		}
	}

	step(p.stopDaemon(ctx, metalLBController(p.layout, b)))
	for _, n := range slices.Backward(c.Nodes) {
		for _, err := range p.stopNode(ctx, n, b) {
			step(err)
		}
	}
	cp := controlPlane(c, p.layout, b)
	step(stopAll(ctx, p, cp[1:])) // API server, controller manager, scheduler
	step(p.stopDaemon(ctx, cp[0]))

	for _, n := range c.Nodes {
		step(p.cleanNode(ctx, n, b))
	}
	for _, n := range c.Namespaced() {
		step(removeNodeNamespace(ctx, p.host, n))
		step(removeCgroupRoot(cgroupFS, n.CgroupRoot))
	}
	step(restoreSysctls(p.host, p.layout.sysctls()))
	step(removeOutside(ctx, p.host, c))
	step(removeNetwork(ctx, p.host, planNetwork(c)))
	step(p.removeState(c))
	if len(errs) > 0 {
		return fmt.Errorf("local cluster teardown: %w", errors.Join(errs...))
	}
	p.log.Info("local cluster down", "seconds", seconds(p.now().Sub(start)), "kept", "build cache, image store")
	return nil
}

// stopNode stops a node's kubelet and kube-proxy, removes its pods, stops
// its containerd and kills shims that outlived it; every step is tried.
func (p *Provider) stopNode(ctx context.Context, n Node, b builds) []error {
	ds := nodeDaemons(p.layout, n, b)
	return []error{
		stopAll(ctx, p, ds[1:]), // kubelet and kube-proxy
		p.removePods(ctx, n, ds[0], b),
		p.stopDaemon(ctx, ds[0]),
		killShims(p.layout.node(n.Name).containerdSocket()),
	}
}

// stopAll stops daemons at once: nothing orders them once the ones that
// depend on them are gone, and the API server may take its whole grace.
func stopAll(ctx context.Context, p *Provider, ds []daemon) error {
	errs := make([]error, len(ds))
	var wg sync.WaitGroup
	for i, d := range ds {
		wg.Go(func() { errs[i] = p.stopDaemon(ctx, d) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// removePods removes every pod sandbox through the CRI while containerd
// still runs: that runs the CNI DEL, which frees the pod's address and
// deletes its /run/netns/cni-* namespace. Stopping containerd first would
// leave those behind. A containerd that died (a half-failed `up`) is started
// again for this.
func (p *Provider) removePods(ctx context.Context, n Node, containerd daemon, b builds) error {
	nl := p.layout.node(n.Name)
	_, statErr := os.Stat(containerd.pidFile)
	if !daemonRunning(containerd) {
		if statErr != nil {
			return nil // never started, or stopped cleanly by an earlier down
		}
		if _, err := os.Stat(containerd.bin); err != nil {
			return nil
		}
		p.log.Info("starting containerd again to remove its pods", "node", n.Name)
		if err := p.ensureDaemon(ctx, containerd); err != nil {
			return err
		}
		if err := waitFor(ctx, containerd.String(), daemonTimeout, 100*time.Millisecond, socketUp(nl.containerdSocket()), &containerd); err != nil {
			return err
		}
	}
	crictl := b.bin("crictl")
	if _, err := os.Stat(crictl); err != nil {
		return fmt.Errorf("node %s: no crictl to remove pods with (%w)", n.Name, err)
	}
	endpoint := "unix://" + nl.containerdSocket()
	rmCtx, cancel := context.WithTimeout(ctx, podRemoveTimeout)
	defer cancel()
	args := []string{"--runtime-endpoint", endpoint, "--image-endpoint", endpoint, "--timeout", "60s", "rmp", "--all", "--force"}
	if n.NetNS != "" {
		args = append([]string{"--net=" + n.NetNS, crictl}, args...)
		crictl = "nsenter"
	}
	if _, err := p.host.run(rmCtx, nil, crictl, args...); err != nil {
		return fmt.Errorf("node %s: remove pods: %w", n.Name, err)
	}
	return nil
}

// killShims kills containerd shims that outlived their containerd. A shim
// runs in its own process group, so stopping containerd leaves it; after
// `crictl rmp` there should be none.
func killShims(socket string) error {
	pids, err := processesMatching(func(cmdline string) bool {
		return strings.Contains(cmdline, "containerd-shim") && strings.Contains(cmdline, socket)
	})
	if err != nil {
		return err
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("kill shim %d: %w", pid, err)
		}
	}
	return nil
}

// processesMatching lists the pids whose command line satisfies match.
func processesMatching(match func(cmdline string) bool) ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		if match(string(bytes.ReplaceAll(raw, []byte{0}, []byte{' '}))) {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// cleanNode removes what a node's kubelet and kube-proxy leave in the host:
// their iptables chains, the CNI bridge, the pods' cgroups and the log links.
func (p *Provider) cleanNode(ctx context.Context, n Node, b builds) error {
	var errs []error
	if n.NetNS == "" {
		if proxy := b.bin("kube-proxy"); fileExists(proxy) {
			// Removes kube-proxy's chains, and the nftables ones it might have.
			if out, err := p.host.run(ctx, nil, proxy, "--cleanup"); err != nil {
				p.log.Debug("kube-proxy --cleanup", "err", err, "output", tail([]byte(out), 5))
			}
		}
		// The kubelet's chains (KUBE-FIREWALL, KUBE-KUBELET-CANARY, ...) and
		// whatever else of kube-proxy's is left: in the host's namespace every
		// KUBE-* chain belongs to this cluster.
		for _, tool := range []string{"iptables", "ip6tables"} {
			errs = append(errs, sweepKubeChains(ctx, p.host, tool))
		}
		errs = append(errs, deleteLink(ctx, p.host, n.Bridge))
	}
	errs = append(errs, removeKubepodsCgroups(n.CgroupRoot))
	errs = append(errs, removeLogLinks(p.layout.node(n.Name).podLogs()))
	return errors.Join(errs...)
}

// sweepKubeChains removes every KUBE-* chain and every jump to one, with one
// iptables-restore transaction per table.
func sweepKubeChains(ctx context.Context, h host, tool string) error {
	var errs []error
	for _, table := range []string{"filter", "nat", "mangle"} {
		save, err := h.run(ctx, nil, tool+"-save", "-t", table)
		if err != nil {
			continue // no such table, or no ip6tables here
		}
		script := kubeChainSweep(table, save)
		if script == "" {
			continue
		}
		if _, err := h.run(ctx, []byte(script), tool+"-restore", append(slices.Clone(iptablesWait), "--noflush")...); err != nil {
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

// removeKubepodsCgroups removes the kubelet's cgroup tree (kubepods under
// the node's cgroupRoot) in every cgroup v1 hierarchy and in the unified
// one, deepest first. Only empty cgroups can be removed; a process still in
// one is killed first, since nothing of the cluster may keep running.
func removeKubepodsCgroups(cgroupRoot string) error {
	hierarchies, err := filepath.Glob("/sys/fs/cgroup/*")
	if err != nil {
		return err
	}
	var errs []error
	for _, h := range hierarchies {
		top := filepath.Join(h, cgroupRoot, "kubepods")
		if !fileExists(top) {
			continue
		}
		var dirs []string
		err := filepath.WalkDir(top, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return nil //nolint:nilerr // a cgroup that vanished while walking is what we want
			}
			if d.IsDir() {
				dirs = append(dirs, path)
			}
			return nil
		})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, dir := range slices.Backward(dirs) {
			killCgroupProcs(dir)
			if err := os.Remove(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, fmt.Errorf("remove cgroup %s: %w", dir, err))
			}
		}
	}
	return errors.Join(errs...)
}

// killCgroupProcs SIGKILLs the processes in a cgroup and waits briefly for
// them to leave it.
func killCgroupProcs(dir string) {
	procs := func() []int {
		raw, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
		if err != nil {
			return nil
		}
		var pids []int
		for f := range strings.FieldsSeq(string(raw)) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids = append(pids, pid)
			}
		}
		return pids
	}
	pids := procs()
	if len(pids) == 0 {
		return
	}
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGKILL) // gone already is fine
	}
	deadline := time.Now().Add(2 * time.Second)
	for len(procs()) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
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
func (p *Provider) removeState(c Cluster) error {
	if err := unmountUnder(p.opts.StateDir); err != nil {
		return err
	}
	var keep []string
	for _, n := range c.Nodes {
		keep = append(keep, p.layout.node(n.Name).containerdRoot())
	}
	return removeAllExcept(p.opts.StateDir, keep)
}

// unmountUnder unmounts everything mounted at or below dir (pod volumes,
// sandbox /dev/shm, container root filesystems, the kubelet's own bind mount
// of its root dir), deepest first, and fails when something stays mounted.
func unmountUnder(dir string) error {
	points, err := mountPoints()
	if err != nil {
		return err
	}
	for _, m := range mountsUnder(points, dir) {
		if err := syscall.Unmount(m, 0); err != nil {
			if err := syscall.Unmount(m, syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) {
				return fmt.Errorf("unmount %s: %w", m, err)
			}
		}
	}
	if points, err = mountPoints(); err != nil {
		return err
	}
	if left := mountsUnder(points, dir); len(left) > 0 {
		return fmt.Errorf("still mounted, state kept: %s", strings.Join(left, " "))
	}
	return nil
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

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
