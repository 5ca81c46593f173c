package kindlab

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
)

// RouteFromNode is the route kind node node (a container of that name)
// takes to ip, as `ip route get` prints it, and whether it leaves the node
// through a gateway: its own default route, towards this machine and the
// world beyond it.
func RouteFromNode(ctx context.Context, node, ip string) (route string, leaves bool, err error) {
	out, err := Docker(ctx, "exec", node, "ip", "-o", "route", "get", ip)
	if err != nil {
		return "", false, fmt.Errorf("route from node %s to %s: %w", node, ip, err)
	}
	route = strings.TrimSpace(string(out))
	return route, routeHasGateway(route), nil
}

// routeHasGateway reports whether a route `ip -o route get` printed goes
// through a gateway ("10.96.0.1 via 172.18.0.1 dev eth0 ...").
func routeHasGateway(route string) bool {
	fields := strings.Fields(route)
	i := slices.Index(fields, "via")
	return i >= 0 && i+1 < len(fields)
}

// ForgetUnrewrittenFlows deletes, in kind node node, the TCP flows to ip
// that kube-proxy never rewrote (their answer would come from ip itself),
// and returns how many there were. Such a flow is what a call to a ClusterIP
// leaves while no Service holds it: in iptables mode, kind's default,
// conntrack keeps it unanswered for 120 s, and a later connection that
// reuses its source port follows it past the new Service's rewrite and
// fails. kube-proxy deletes such flows itself for UDP only. Flows that
// kube-proxy rewrote to a pod are left alone.
func ForgetUnrewrittenFlows(ctx context.Context, node, ip string) (int, error) {
	out, err := Docker(ctx, "exec", node, "conntrack", "-D", "--proto", "tcp", "--orig-dst", ip, "--reply-src", ip)
	// conntrack fails when it found nothing to delete, and says so.
	if err != nil && strings.Contains(err.Error(), " 0 flow entries have been deleted") {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("forget the flows to %s in node %s: %w", ip, node, err)
	}
	// One line per deleted flow.
	return bytes.Count(out, []byte("\n")), nil
}
