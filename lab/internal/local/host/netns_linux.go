//go:build linux

package host

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// DialFrom returns a dialer whose connections start in the network namespace
// pinned at file (the local cluster's outside client): the calls come from
// a machine that is not a node. A socket stays in the namespace it was
// created in, so only its creation needs the thread to be there. addr must
// hold an IP address: a name would be resolved on other threads, in this
// machine's namespace.
func DialFrom(file string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		if net.ParseIP(host) == nil {
			return nil, fmt.Errorf("dial %s from %s: want an IP address, not a name", addr, file)
		}
		var conn net.Conn
		err = inNetNS(file, func() error {
			var err error
			conn, err = (&net.Dialer{}).DialContext(ctx, network, addr)
			return err
		})
		return conn, err
	}
}

// inNetNS runs fn on a thread that has joined the network namespace at
// file, then takes the thread back to its own namespace. A thread that
// cannot go back stays locked to this goroutine, so that the Go runtime
// ends it instead of running other code in the wrong namespace.
func inNetNS(file string, fn func() error) error {
	target, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("network namespace: %w", err)
	}
	defer target.Close() //nolint:errcheck // read-only
	runtime.LockOSThread()
	own, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("network namespace of this thread: %w", err)
	}
	defer own.Close() //nolint:errcheck // read-only
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("join network namespace %s: %w", file, err)
	}
	fnErr := fn()
	if err := unix.Setns(int(own.Fd()), unix.CLONE_NEWNET); err != nil {
		return errors.Join(fnErr, fmt.Errorf("leave network namespace %s: %w", file, err))
	}
	runtime.UnlockOSThread()
	return fnErr
}
