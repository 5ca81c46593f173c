// Package localnodes stops and starts the daemons of the local cluster's
// nodes (kube-proxy, kubelet), which are processes of this machine, for the
// workshop's drills when they run outside the lab command: the e2e suite.
package localnodes

import (
	"log/slog"

	"github.com/podpaths/podpaths/lab/internal/local"
	"github.com/podpaths/podpaths/lab/workshop"
)

// Faults returns the NodeFaults of the local cluster called name, whose
// programs were built from the repository at root.
func Faults(root, name string, log *slog.Logger) workshop.NodeFaults {
	return local.New(local.Options{Name: name, Root: root, Logger: log})
}
