package main

import (
	"errors"
	"fmt"
	"net"

	"github.com/podpaths/podpaths/platform/config"
)

// Config is the backend's configuration, read from PODPATHS_* variables.
type Config struct {
	config.Common
	// SidecarAddr is the sidecar's app address. The two containers share the
	// pod's network namespace, so loopback reaches it and nothing else can.
	SidecarAddr string `env:"SIDECAR_ADDR" envDefault:"127.0.0.1:9000"`
	// HeadlessService is the headless Service that gives each sibling its
	// own DNS name (the StatefulSet's serviceName).
	HeadlessService string `env:"HEADLESS_SERVICE" envDefault:"backend-headless"`
}

func loadConfig(environ []string) (Config, error) {
	cfg := Config{Common: config.Common{AppAddr: ":8080", AdminAddr: ":9090"}}
	if err := config.Parse(environ, &cfg); err != nil {
		return cfg, err
	}
	return cfg, cfg.validate()
}

func (c Config) validate() error {
	var errs []error
	if err := c.Common.Validate(); err != nil {
		errs = append(errs, err)
	}
	if _, _, err := net.SplitHostPort(c.SidecarAddr); err != nil {
		errs = append(errs, fmt.Errorf("invalid %sSIDECAR_ADDR %q: want host:port", config.Prefix, c.SidecarAddr))
	}
	if c.HeadlessService == "" {
		errs = append(errs, fmt.Errorf("invalid %sHEADLESS_SERVICE: must not be empty", config.Prefix))
	}
	return errors.Join(errs...)
}
