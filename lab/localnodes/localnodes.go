// Package localnodes gives the e2e suite what it needs of the local
// cluster beyond the Kubernetes API: stopping and starting its nodes'
// daemons (kube-proxy, kubelet), which are processes of this machine, for
// the workshop's drills, checking its network guards, and calling from its
// outside client.
package localnodes

import (
	"context"
	"log/slog"

	"github.com/podpaths/podpaths/lab/internal/local"
	"github.com/podpaths/podpaths/lab/internal/local/host"
	"github.com/podpaths/podpaths/lab/workshop"
	"github.com/podpaths/podpaths/platform/probe"
)

// Faults returns the NodeFaults of the local cluster called name, whose
// programs were built from the repository at root.
func Faults(root, name string, log *slog.Logger) workshop.NodeFaults {
	return local.New(local.Options{Name: name, Root: root, Logger: log})
}

// Outside is the local cluster called name's outside client, whose routes
// the workshop changes.
func Outside(root, name string, log *slog.Logger) workshop.OutsideNetwork {
	return local.New(local.Options{Name: name, Root: root, Logger: log})
}

// DialFrom dials from the network namespace pinned at file, such as the
// local cluster's outside client: `make check`'s calls from a machine that
// is no node. addr must hold an IP address.
func DialFrom(file string) probe.DialFunc { return host.DialFrom(file) }

// CheckGuards compares the live iptables guards of the local cluster called
// name with the plan that `up` applied; any difference is an error.
func CheckGuards(ctx context.Context, name string) error {
	return local.New(local.Options{Name: name}).CheckGuards(ctx)
}
