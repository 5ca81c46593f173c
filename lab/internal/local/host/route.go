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

// Network is a range this machine routes or has an address in, and the
// interface it is on.
type Network struct {
	Prefix netip.Prefix
	Dev    string
}

// Networks lists the IPv4 ranges of the main routing table (read from the
// kernel's tables, except the default route) and of every interface's
// addresses.
func Networks() ([]Network, error) {
	raw, err := os.ReadFile("/proc/net/route")
	if err != nil {
		return nil, fmt.Errorf("routes: %w", err)
	}
	nets, err := parseRoutes(string(raw))
	if err != nil {
		return nil, err
	}
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("interfaces: %w", err)
	}
	for _, iface := range ifaces {
		addrs, err := iface.Addrs()
		if err != nil {
			return nil, fmt.Errorf("addresses of %s: %w", iface.Name, err)
		}
		for _, a := range addrs {
			if pfx, err := netip.ParsePrefix(a.String()); err == nil && pfx.Addr().Is4() {
				nets = append(nets, Network{Prefix: pfx.Masked(), Dev: iface.Name})
			}
		}
	}
	return nets, nil
}

// parseRoutes reads /proc/net/route: destination and mask are little-endian
// hex. The default route is left out: it overlaps everything.
func parseRoutes(table string) ([]Network, error) {
	var nets []Network
	for i, line := range strings.Split(table, "\n") {
		f := strings.Fields(line)
		if i == 0 || len(f) < 8 {
			continue
		}
		dst, err1 := hexAddr(f[1])
		mask, err2 := hexAddr(f[7])
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("routes: line %d: %w", i+1, err)
		}
		bits := 0
		for _, b := range mask.AsSlice() {
			for ; b != 0; b <<= 1 {
				bits++
			}
		}
		if bits == 0 {
			continue
		}
		nets = append(nets, Network{Prefix: netip.PrefixFrom(dst, bits).Masked(), Dev: f[0]})
	}
	return nets, nil
}

// hexAddr decodes an IPv4 address as /proc/net/route writes it.
func hexAddr(s string) (netip.Addr, error) {
	var v uint32
	if _, err := fmt.Sscanf(s, "%08X", &v); err != nil {
		return netip.Addr{}, fmt.Errorf("address %q: %w", s, err)
	}
	return netip.AddrFrom4([4]byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}), nil
}
