package main

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/podpaths/podpaths/platform/config"
	"github.com/podpaths/podpaths/platform/discovery"
	"github.com/podpaths/podpaths/platform/report"
)

// Config is the frontend's configuration, read from PODPATHS_* variables.
type Config struct {
	config.Common
	// BackendService is the backend's ClusterIP Service.
	BackendService string `env:"BACKEND_SERVICE" envDefault:"backend"`
	BackendPort    int    `env:"BACKEND_PORT" envDefault:"8080"`
	// BackendMethods are the discovery methods to try, in order.
	BackendMethods string `env:"BACKEND_METHODS" envDefault:"env,dns,headless"`
	// BackendAddr is the backend's host:port for the static method.
	BackendAddr     string `env:"BACKEND_ADDR"`
	HeadlessService string `env:"HEADLESS_SERVICE" envDefault:"backend-headless"`
	// StickyService, LocalService and NearbyService are optional extra
	// Services in front of the backend pods, and AliasService an
	// ExternalName Service for the backend's name, set by the deployment
	// that creates them.
	StickyService string `env:"STICKY_SERVICE"`
	LocalService  string `env:"LOCAL_SERVICE"`
	NearbyService string `env:"NEARBY_SERVICE"`
	AliasService  string `env:"ALIAS_SERVICE"`
	// NginxAddr is nginx in this pod; "none" when nothing is in front.
	NginxAddr string `env:"NGINX_ADDR" envDefault:"127.0.0.1:8080"`
	// SpreadMax bounds /api/spread's n: each call is a new connection, so
	// it bounds the connections one request can open.
	SpreadMax int `env:"SPREAD_MAX" envDefault:"60"`
	// MaxReports bounds how many path reports, spreads and dashboard pages
	// this frontend makes at once; more get 429 at once.
	MaxReports int `env:"MAX_REPORTS" envDefault:"8"`
	// ProbeInterval, when set, makes the frontend try every path on its own
	// that often, so its metrics follow the paths without anybody asking.
	ProbeInterval time.Duration `env:"PROBE_INTERVAL" envDefault:"0s"`

	methods []report.Method
}

// noNginx is the NginxAddr value for a frontend with nothing in front.
const noNginx = "none"

func loadConfig(environ []string) (Config, error) {
	cfg := Config{Common: config.Common{AppAddr: "127.0.0.1:3000", AdminAddr: ":9090"}}
	if err := config.Parse(environ, &cfg); err != nil {
		return cfg, err
	}
	return cfg, cfg.validate()
}

func (c *Config) validate() error {
	var errs []error
	if err := c.Common.Validate(); err != nil {
		errs = append(errs, err)
	}
	methods, err := discovery.ParseMethods(c.BackendMethods)
	if err != nil {
		errs = append(errs, fmt.Errorf("invalid %sBACKEND_METHODS: %w", config.Prefix, err))
	}
	c.methods = methods
	if c.BackendPort < 1 || c.BackendPort > 65535 {
		errs = append(errs, fmt.Errorf("invalid %sBACKEND_PORT %d: want 1-65535", config.Prefix, c.BackendPort))
	}
	if c.BackendAddr != "" {
		if _, _, err := net.SplitHostPort(c.BackendAddr); err != nil {
			errs = append(errs, fmt.Errorf("invalid %sBACKEND_ADDR %q: want host:port", config.Prefix, c.BackendAddr))
		}
	}
	if c.NginxAddr != noNginx {
		if _, _, err := net.SplitHostPort(c.NginxAddr); err != nil {
			errs = append(errs, fmt.Errorf("invalid %sNGINX_ADDR %q: want host:port", config.Prefix, c.NginxAddr))
		}
	}
	if c.SpreadMax < 1 {
		errs = append(errs, fmt.Errorf("invalid %sSPREAD_MAX %d: must be at least 1", config.Prefix, c.SpreadMax))
	}
	if c.ProbeInterval < 0 {
		errs = append(errs, fmt.Errorf("invalid %sPROBE_INTERVAL %s: must not be negative", config.Prefix, c.ProbeInterval))
	}
	if c.MaxReports < 1 {
		errs = append(errs, fmt.Errorf("invalid %sMAX_REPORTS %d: must be at least 1", config.Prefix, c.MaxReports))
	}
	return errors.Join(errs...)
}
