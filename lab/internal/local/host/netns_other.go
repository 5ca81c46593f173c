//go:build !linux

package host

import (
	"context"
	"errors"
	"net"
)

// DialFrom needs Linux network namespaces; elsewhere every dial fails.
func DialFrom(file string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("network namespaces (" + file + ") exist only on Linux")
	}
}
