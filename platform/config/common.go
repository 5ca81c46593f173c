package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/podpaths/podpaths/platform/identity"
)

// Common is the configuration every service shares. A service embeds it and
// sets its own default addresses before calling Parse.
type Common struct {
	AppAddr         string        `env:"APP_ADDR"`
	AdminAddr       string        `env:"ADMIN_ADDR"`
	DrainDelay      time.Duration `env:"DRAIN_DELAY" envDefault:"5s"`
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"10s"`
	LogLevel        slog.Level    `env:"LOG_LEVEL" envDefault:"info"`
	// DNSServer, when set, sends every lookup to that host:port instead of
	// the system resolver.
	DNSServer string `env:"DNS_SERVER"`
	// ClusterDomain completes Service names. "none" means bare names, as
	// under docker compose, whose DNS knows only container names.
	ClusterDomain string `env:"CLUSTER_DOMAIN" envDefault:"cluster.local"`
	// PeerTimeout bounds every outbound call.
	PeerTimeout time.Duration `env:"PEER_TIMEOUT" envDefault:"2s"`
	identity.Env
}

// NoClusterDomain is the ClusterDomain value for bare Service names.
const NoClusterDomain = "none"

// Base is the common part of a service's configuration: a Config that
// embeds Common has it too, which is how serve.Program finds it.
func (c Common) Base() Common { return c }

// Domain is the cluster domain to build DNS names with; empty for bare names.
func (c Common) Domain() string {
	if c.ClusterDomain == NoClusterDomain {
		return ""
	}
	return c.ClusterDomain
}

// Validate checks the values Parse cannot, naming the variable at fault.
func (c Common) Validate() error {
	var errs []error
	for _, a := range []struct{ name, addr string }{{"APP_ADDR", c.AppAddr}, {"ADMIN_ADDR", c.AdminAddr}} {
		if _, _, err := net.SplitHostPort(a.addr); err != nil {
			errs = append(errs, fmt.Errorf("invalid %s%s %q: want host:port", Prefix, a.name, a.addr))
		}
	}
	if c.DNSServer != "" {
		if _, _, err := net.SplitHostPort(c.DNSServer); err != nil {
			errs = append(errs, fmt.Errorf("invalid %sDNS_SERVER %q: want host:port", Prefix, c.DNSServer))
		}
	}
	if c.DrainDelay < 0 {
		errs = append(errs, fmt.Errorf("invalid %sDRAIN_DELAY %s: must not be negative", Prefix, c.DrainDelay))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("invalid %sSHUTDOWN_TIMEOUT %s: must be positive", Prefix, c.ShutdownTimeout))
	}
	if c.PeerTimeout <= 0 {
		errs = append(errs, fmt.Errorf("invalid %sPEER_TIMEOUT %s: must be positive", Prefix, c.PeerTimeout))
	}
	return errors.Join(errs...)
}
