package nodes

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/podpaths/podpaths/lab/internal/proc"
)

// A node besides the first has a cgroup root of its own: two kubelets on one
// machine that shared one would each collect the other's pods.

// CgroupFS is where the machine mounts its cgroup hierarchies.
const CgroupFS = "/sys/fs/cgroup"

// EnsureCgroupRoot creates a node's cgroupRoot in every cgroup v1 hierarchy
// (the kubelet refuses one that is missing in any) and gives its cpuset the
// root's CPUs and memory nodes, without which no child cgroup can hold a
// process. Nothing to do for the root itself.
func EnsureCgroupRoot(base, root string) error {
	if root == "" || root == "/" {
		return nil
	}
	hierarchies, err := cgroupHierarchies(base)
	if err != nil {
		return err
	}
	for _, h := range hierarchies {
		if err := os.MkdirAll(filepath.Join(h, root), 0o755); err != nil {
			return fmt.Errorf("cgroup root %s: %w", root, err)
		}
	}
	for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
		src := filepath.Join(base, "cpuset", f)
		v, err := os.ReadFile(src)
		if errors.Is(err, os.ErrNotExist) {
			continue // no cpuset hierarchy (cgroup v2)
		}
		if err != nil {
			return fmt.Errorf("cgroup root %s: %w", root, err)
		}
		dst := filepath.Join(base, "cpuset", root, f)
		if old, err := os.ReadFile(dst); err == nil && strings.TrimSpace(string(old)) != "" {
			continue
		}
		if err := os.WriteFile(dst, v, 0o644); err != nil {
			return fmt.Errorf("cgroup root %s: %w", root, err)
		}
	}
	return nil
}

// RemoveCgroupRoot removes a node's cgroupRoot, after its kubepods tree,
// from every hierarchy, systemd's unified one included: runc makes the
// container cgroups there too, so the root appears there as well.
func RemoveCgroupRoot(base, root string) error {
	if root == "" || root == "/" {
		return nil
	}
	hierarchies, err := filepath.Glob(filepath.Join(base, "*"))
	if err != nil {
		return err
	}
	if fileExists(filepath.Join(base, "cgroup.controllers")) {
		hierarchies = []string{base}
	}
	var errs []error
	for _, h := range hierarchies {
		dir := filepath.Join(h, root)
		if err := os.Remove(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove cgroup %s: %w", dir, err))
		}
	}
	return errors.Join(errs...)
}

// cgroupHierarchies are the directories under base that hold a cgroup
// hierarchy a kubelet uses: every v1 controller, or the v2 root. "unified"
// on a v1 machine is systemd's and no kubelet's.
func cgroupHierarchies(base string) ([]string, error) {
	if fileExists(filepath.Join(base, "cgroup.controllers")) {
		return []string{base}, nil
	}
	entries, err := os.ReadDir(base)
	if err != nil {
		return nil, fmt.Errorf("cgroups: %w", err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && e.Name() != "unified" {
			out = append(out, filepath.Join(base, e.Name()))
		}
	}
	return out, nil
}

// RemoveKubepodsCgroups removes the kubelet's cgroup tree (kubepods under
// the node's cgroupRoot) in every cgroup v1 hierarchy and in the unified
// one, deepest first. Only empty cgroups can be removed; a process still in
// one is killed first, since nothing of the cluster may keep running.
func RemoveKubepodsCgroups(cgroupRoot string) error {
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
		_ = proc.Kill(pid) // best effort: the wait below says whether they went
	}
	deadline := time.Now().Add(2 * time.Second)
	for len(procs()) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
