package matrix

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// Unrouted reports whether this machine has no route to ip. Connecting a
// UDP socket looks the route up and sends nothing; without a route the
// connect fails at once, as a TCP connect to ip would. Only then may this
// machine stand in for a client outside the cluster and call a ClusterIP:
// with a route, usually the default one, the call would leave the machine.
func Unrouted(ip netip.Addr) bool {
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, discardPort)))
	if err == nil {
		_ = conn.Close() //nolint:errcheck // nothing was sent on it
		return false
	}
	return errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.EHOSTUNREACH)
}

// DialUnrouted dials from this machine only an address it has no route to,
// so that the connect fails here and no packet leaves: the dialer of a
// check that this machine, as a client outside the cluster, must not reach
// the address. It refuses any other address without dialing.
func DialUnrouted(ctx context.Context, network, address string) (net.Conn, error) {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", address, err)
	}
	if !Unrouted(ap.Addr()) {
		return nil, fmt.Errorf("not calling %s from this machine: it has a route there, and the call would leave the machine", address)
	}
	return (&net.Dialer{}).DialContext(ctx, network, address)
}

// discardPort is the discard service's: the socket above never sends.
const discardPort = 9
