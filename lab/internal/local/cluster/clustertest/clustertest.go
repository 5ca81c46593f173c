// Package clustertest makes the clusters the local provider's tests derive
// everything from: the default one with node A at 192.0.2.2 (TEST-NET-1, so
// no test ever names a real machine), and the same with node B, each with
// its state in a temporary directory.
package clustertest

import (
	"net/netip"
	"testing"

	"github.com/podpaths/podpaths/lab/internal/local/cluster"
)

// NodeIP is node A's IP in every test cluster.
const NodeIP = "192.0.2.2"

// New is the default single-node cluster.
func New(t *testing.T) cluster.Cluster {
	t.Helper()
	c := cluster.New("podpaths", netip.MustParseAddr(NodeIP), t.TempDir())
	if err := c.Validate(); err != nil {
		t.Fatalf("default cluster is invalid: %v", err)
	}
	return c
}

// TwoNodes is the default two-node cluster.
func TwoNodes(t *testing.T) cluster.Cluster {
	t.Helper()
	c, err := New(t).WithNodes(2)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("two-node cluster is invalid: %v", err)
	}
	return c
}
