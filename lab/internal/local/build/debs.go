package build

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/podpaths/podpaths/lab/internal/local/host"
)

// debPackages are the Debian packages the local cluster runs on: the
// container runtime (containerd, runc), the CNI plugins (bridge, host-local,
// portmap, loopback in /usr/lib/cni), and the tools the kubelet, kube-proxy
// and the lab call (iptables, conntrack, ip, nsenter, unshare, mount, and
// sysctl for node B's own network namespace), and HAProxy, the external
// load balancer in front of the nodes' NodePorts.
var debPackages = []string{
	"containerd", "runc", "containernetworking-plugins",
	"iptables", "conntrack", "iproute2", "util-linux", "mount", "procps", "haproxy",
}

// missingPackages reads `dpkg-query -W -f '${Package} ${db:Status-Status}\n'`
// output and returns the wanted packages that are not installed. dpkg-query
// prints nothing for a package it has never heard of.
func missingPackages(dpkgOutput string, want []string) []string {
	installed := map[string]bool{}
	for line := range strings.SplitSeq(dpkgOutput, "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[1] == "installed" {
			installed[f[0]] = true
		}
	}
	var missing []string
	for _, p := range want {
		if !installed[p] {
			missing = append(missing, p)
		}
	}
	return missing
}

// aptLockWait makes apt-get wait up to 5 minutes for dpkg's lock.
const aptLockWait = "-oDPkg::Lock::Timeout=300"

// EnsurePackages installs the missing packages with apt-get, updating the
// package lists once if the first attempt fails (a fresh machine has none).
func EnsurePackages(ctx context.Context, h host.Runner, log *slog.Logger) error {
	// dpkg-query exits 1 when some package is unknown; its output still lists
	// the others, which is all that is needed.
	out, _ := h.Run(ctx, nil, "dpkg-query", slices.Concat([]string{"-W", "-f", "${Package} ${db:Status-Status}\n"}, debPackages)...)
	missing := missingPackages(out, debPackages)
	if len(missing) == 0 {
		return nil
	}
	log.Info("installing Debian packages", "packages", strings.Join(missing, " "))
	// RUNLEVEL=1 keeps the packages' maintainer scripts from starting
	// services (containerd's own): the lab runs its own instance.
	// The lock timeout waits for another apt (unattended-upgrades, a
	// user's install) instead of failing at once.
	install := slices.Concat([]string{"RUNLEVEL=1", "DEBIAN_FRONTEND=noninteractive", "apt-get", aptLockWait, "install", "-y", "-qq", "--no-install-recommends"}, missing)
	if _, err := h.Run(ctx, nil, "env", install...); err == nil {
		return nil
	}
	if _, err := h.Run(ctx, nil, "apt-get", aptLockWait, "update", "-qq"); err != nil {
		return fmt.Errorf("apt-get update: %w", err)
	}
	if _, err := h.Run(ctx, nil, "env", install...); err != nil {
		return fmt.Errorf("install %s: %w", strings.Join(missing, " "), err)
	}
	return nil
}
