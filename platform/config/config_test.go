package config

import (
	"strings"
	"testing"
	"time"
)

type nested struct {
	Level string `env:"LEVEL" envDefault:"info"`
}

type testConfig struct {
	Addr    string        `env:"APP_ADDR" envDefault:":8080"`
	Timeout time.Duration `env:"PEER_TIMEOUT" envDefault:"2s"`
	Count   int           `env:"COUNT" envDefault:"3"`
	Log     nested        `envPrefix:"LOG_"`
}

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		environ []string
		wantErr string // substring; empty means success
		check   func(testConfig) bool
	}{
		{name: "defaults", check: func(c testConfig) bool {
			return c.Addr == ":8080" && c.Timeout == 2*time.Second && c.Log.Level == "info"
		}},
		{name: "prefixed values win", environ: []string{"PODPATHS_PEER_TIMEOUT=5s", "PEER_TIMEOUT=9s", "PODPATHS_LOG_LEVEL=debug"},
			check: func(c testConfig) bool { return c.Timeout == 5*time.Second && c.Log.Level == "debug" }},
		{name: "bad duration names the variable", environ: []string{"PODPATHS_PEER_TIMEOUT=soon"}, wantErr: "invalid PODPATHS_PEER_TIMEOUT"},
		{name: "bad int names the variable", environ: []string{"PODPATHS_COUNT=three"}, wantErr: "invalid PODPATHS_COUNT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var c testConfig
			err := Parse(tt.environ, &c)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse(%v) error = %v, want it to contain %q", tt.environ, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%v) error = %v", tt.environ, err)
			}
			if !tt.check(c) {
				t.Errorf("Parse(%v) = %+v, not what the test wants", tt.environ, c)
			}
		})
	}
}

func TestCommonValidate(t *testing.T) {
	t.Parallel()
	valid := Common{AppAddr: ":8080", AdminAddr: ":9090", ShutdownTimeout: time.Second, PeerTimeout: time.Second}
	tests := []struct {
		name    string
		mutate  func(*Common)
		wantErr string
	}{
		{name: "valid", mutate: func(*Common) {}},
		{name: "app addr without port", mutate: func(c *Common) { c.AppAddr = "localhost" }, wantErr: "PODPATHS_APP_ADDR"},
		{name: "dns server without port", mutate: func(c *Common) { c.DNSServer = "10.96.0.10" }, wantErr: "PODPATHS_DNS_SERVER"},
		{name: "negative drain", mutate: func(c *Common) { c.DrainDelay = -time.Second }, wantErr: "PODPATHS_DRAIN_DELAY"},
		{name: "zero peer timeout", mutate: func(c *Common) { c.PeerTimeout = 0 }, wantErr: "PODPATHS_PEER_TIMEOUT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := valid
			tt.mutate(&c)
			err := c.Validate()
			if tt.wantErr == "" && err != nil {
				t.Fatalf("Validate(%+v) = %v, want nil", c, err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Validate(%+v) = %v, want an error naming %s", c, err, tt.wantErr)
			}
		})
	}
}

func TestClusterDomainNoneMeansBareNames(t *testing.T) {
	t.Parallel()
	var c Common
	if err := Parse([]string{"PODPATHS_CLUSTER_DOMAIN=none"}, &c); err != nil {
		t.Fatal(err)
	}
	if c.Domain() != "" {
		t.Errorf("PODPATHS_CLUSTER_DOMAIN=none: Domain() = %q, want empty", c.Domain())
	}
	c = Common{}
	if err := Parse(nil, &c); err != nil || c.Domain() != "cluster.local" {
		t.Errorf("PODPATHS_CLUSTER_DOMAIN unset: Domain() = %q (%v), want cluster.local", c.Domain(), err)
	}
}
