package host

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
)

// DefaultRouteIP is the first IPv4 address of the interface that holds the
// default route, read from the kernel's tables: nothing is sent. It is node
// A's IP.
func DefaultRouteIP() (netip.Addr, error) {
	raw, err := os.ReadFile("/proc/net/route")
	if err != nil {
		return netip.Addr{}, fmt.Errorf("node IP: %w", err)
	}
	name, err := defaultRouteInterface(string(raw))
	if err != nil {
		return netip.Addr{}, err
	}
	iface, err := net.InterfaceByName(name)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("node IP: %w", err)
	}
	addrs, err := iface.Addrs()
	if err != nil {
		return netip.Addr{}, fmt.Errorf("node IP: %w", err)
	}
	for _, a := range addrs {
		if pfx, err := netip.ParsePrefix(a.String()); err == nil && pfx.Addr().Is4() {
			return pfx.Addr(), nil
		}
	}
	return netip.Addr{}, fmt.Errorf("node IP: %s has no IPv4 address", name)
}

// defaultRouteInterface reads /proc/net/route, whose default route has
// destination and mask 00000000.
func defaultRouteInterface(table string) (string, error) {
	for i, line := range strings.Split(table, "\n") {
		f := strings.Fields(line)
		if i == 0 || len(f) < 8 {
			continue
		}
		if f[1] == "00000000" && f[7] == "00000000" {
			return f[0], nil
		}
	}
	return "", errors.New("node IP: no IPv4 default route, so no interface to take the node IP from")
}
