package local

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/podpaths/podpaths/lab/internal/local/cluster/clustertest"
	"github.com/podpaths/podpaths/lab/internal/local/host"
)

func TestCheckRangesRefusesANetworkThisMachineIsOn(t *testing.T) {
	t.Parallel()
	c := clustertest.TwoNodes(t)
	on := func(prefix, dev string) host.Network {
		return host.Network{Prefix: netip.MustParsePrefix(prefix), Dev: dev}
	}
	machine := []host.Network{on("192.0.2.0/24", "eth0"), on("172.17.0.0/16", "docker0"), on("127.0.0.0/8", "lo")}
	// What an earlier `up` left: the lab's own routes and addresses.
	lab := []host.Network{on("10.96.0.0/16", "podpaths-svc"), on("10.97.0.0/24", "podpaths-svc"), on("10.244.0.0/16", "*"),
		on("10.244.0.0/24", "cni0"), on("10.244.1.0/24", "podpaths-b"), on("172.30.0.0/30", "podpaths-b"), on("172.31.0.0/30", "podpaths-out")}
	if err := checkRanges(c, append(machine, lab...)); err != nil {
		t.Errorf("a machine with only its own networks and the lab's: %v", err)
	}
	for _, tc := range []struct {
		net  host.Network
		want string
	}{
		// An AWS default VPC.
		{on("172.31.0.0/20", "eth0"), "outside client's range 172.31.0.0/30 overlaps 172.31.0.0/20 on eth0, a network this machine is on; move it with make local-up LOCAL_OUTSIDE_RANGE="},
		{on("172.30.0.0/16", "br-1a2b"), "node link range 172.30.0.0/24 overlaps 172.30.0.0/16 on br-1a2b, a network this machine is on; move it with make local-up LOCAL_NODE_LINK_RANGE="},
		{on("10.0.0.0/8", "wg0"), "Service range 10.96.0.0/16 overlaps 10.0.0.0/8 on wg0, a network this machine is on; bring the lab up on a machine without it"},
		{on("10.244.7.0/24", "flannel.1"), "pod range 10.244.0.0/16 overlaps 10.244.7.0/24 on flannel.1"},
	} {
		err := checkRanges(c, append(machine, tc.net))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("with %v: %v, want an error saying %q", tc.net, err, tc.want)
		}
	}
}
