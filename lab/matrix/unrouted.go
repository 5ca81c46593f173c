package matrix

import (
	"errors"
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

// discardPort is the discard service's: the socket above never sends.
const discardPort = 9
