package daemons

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/podpaths/podpaths/lab/internal/local/host"
)

// WaitFor polls check every interval until it succeeds, the timeout ends,
// or the daemon d it waits for died (nil: no daemon); then it names the
// cause, with the end of that daemon's log.
func WaitFor(ctx context.Context, what string, timeout, interval time.Duration, check func(context.Context) error, d *Daemon) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var last error
	for {
		if last = check(ctx); last == nil {
			return nil
		}
		if d != nil && exited(*d) {
			return fmt.Errorf("%s: %s exited; the end of %s:\n%s", what, d, d.logFile, logTail(d.logFile, 15))
		}
		select {
		case <-ctx.Done():
			msg := fmt.Sprintf("%s: not ready after %s: %v", what, timeout, last)
			if d != nil {
				msg += fmt.Sprintf("; the end of %s:\n%s", d.logFile, logTail(d.logFile, 15))
			}
			return errors.New(msg)
		case <-tick.C:
		}
	}
}

// HTTPOK is a check that GETs url and wants a 200.
func HTTPOK(client *http.Client, url string) func(context.Context) error {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close() //nolint:errcheck // read-only
		body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s: %s", url, resp.Status, strings.TrimSpace(string(body)))
		}
		return nil
	}
}

// ProbeClient is for the components' own health endpoints on 127.0.0.1:
// the controller manager and the scheduler serve those with a certificate
// they made themselves, which nobody else signs.
func ProbeClient() *http.Client {
	return &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // a health probe of a self-signed local endpoint
		Proxy:           nil,
	}}
}

// SocketUp checks that a unix socket accepts connections.
func SocketUp(path string) func(context.Context) error { return Accepts("unix", path) }

// Accepts checks that addr accepts connections.
func Accepts(network, addr string) func(context.Context) error {
	return func(ctx context.Context) error {
		var d net.Dialer
		conn, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return err
		}
		return conn.Close()
	}
}

// logTail returns the last n lines of a log file, indented, for error
// messages.
func logTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	return "  " + strings.ReplaceAll(host.Tail(b, n), "\n", "\n  ")
}
