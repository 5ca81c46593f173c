package kindlab

import "testing"

func TestRouteHasGateway(t *testing.T) {
	for _, tc := range []struct {
		route string
		want  bool
	}{
		// The node's default route: the call would leave the node.
		{"10.96.0.80 via 172.18.0.1 dev eth0 src 172.18.0.3 uid 0 \\    cache ", true},
		// CI's node image routes kind's ranges to an empty bridge.
		{"10.96.0.80 dev podpaths-sink src 10.244.1.1 uid 0 \\    cache ", false},
		// A pod on another node, over flannel's host-gw: a gateway, but a node.
		{"10.244.2.5 via 172.18.0.2 dev eth0 src 172.18.0.3 uid 0 \\    cache ", true},
		{"local 127.0.0.1 dev lo src 127.0.0.1 uid 0 \\    cache <local> ", false},
		{"", false},
		{"via", false},
	} {
		if got := routeHasGateway(tc.route); got != tc.want {
			t.Errorf("routeHasGateway(%q) = %t; want %t", tc.route, got, tc.want)
		}
	}
}
