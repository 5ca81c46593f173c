package main

import (
	"github.com/podpaths/podpaths/platform/config"
)

// Config is the sidecar's configuration, read from PODPATHS_* variables.
type Config struct {
	config.Common
}

// loadConfig binds the app port to loopback by default: only containers in
// the same pod can reach it, which is what a sidecar is for.
func loadConfig(environ []string) (Config, error) {
	cfg := Config{Common: config.Common{AppAddr: "127.0.0.1:9000", AdminAddr: ":9091"}}
	if err := config.Parse(environ, &cfg); err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}
