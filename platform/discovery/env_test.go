package discovery_test

import (
	"cmp"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/podpaths/podpaths/platform/discovery"
	"github.com/podpaths/podpaths/platform/report"
)

func TestEnvPrefix(t *testing.T) {
	t.Parallel()
	tests := []struct{ service, want string }{
		{service: "backend", want: "BACKEND"},
		{service: "backend-sticky", want: "BACKEND_STICKY"},
		{service: "backend-headless", want: "BACKEND_HEADLESS"},
		{service: "a-b-c", want: "A_B_C"},
		{service: "redis2", want: "REDIS2"},
		{service: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.service, func(t *testing.T) {
			t.Parallel()
			if got := discovery.EnvPrefix(tt.service); got != tt.want {
				t.Errorf("EnvPrefix(%q) = %q, want %q", tt.service, got, tt.want)
			}
		})
	}
}

func TestFromEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		environ   map[string]string
		service   string
		portName  string
		wantAddr  string
		wantQuery string
		wantErr   string // substring of an ErrUnconfigured error; empty means success
	}{
		{
			name:    "service links present",
			environ: map[string]string{"BACKEND_SERVICE_HOST": "10.96.4.20", "BACKEND_SERVICE_PORT": "8080"},
			service: "backend", wantAddr: "10.96.4.20:8080",
			wantQuery: "BACKEND_SERVICE_HOST, BACKEND_SERVICE_PORT",
		},
		{
			name: "named port variable wins over the unnamed one",
			environ: map[string]string{"BACKEND_SERVICE_HOST": "10.96.4.20", "BACKEND_SERVICE_PORT": "9999",
				"BACKEND_SERVICE_PORT_HTTP": "8080"},
			service: "backend", portName: "http", wantAddr: "10.96.4.20:8080",
			wantQuery: "BACKEND_SERVICE_HOST, BACKEND_SERVICE_PORT_HTTP",
		},
		{
			name:    "dashed service and port names",
			environ: map[string]string{"BACKEND_STICKY_SERVICE_HOST": "10.96.7.1", "BACKEND_STICKY_SERVICE_PORT_HTTP_ALT": "8081"},
			service: "backend-sticky", portName: "http-alt", wantAddr: "10.96.7.1:8081",
			wantQuery: "BACKEND_STICKY_SERVICE_HOST, BACKEND_STICKY_SERVICE_PORT_HTTP_ALT",
		},
		{
			name:    "IPv6 ClusterIP is bracketed",
			environ: map[string]string{"BACKEND_SERVICE_HOST": "fd00:10:96::4", "BACKEND_SERVICE_PORT": "8080"},
			service: "backend", wantAddr: "[fd00:10:96::4]:8080",
			wantQuery: "BACKEND_SERVICE_HOST, BACKEND_SERVICE_PORT",
		},
		{
			name:    "missing host",
			environ: map[string]string{"BACKEND_SERVICE_PORT": "8080", "PODPATHS_BACKEND_SERVICE_HOST": "10.96.4.20"},
			service: "backend", wantErr: "BACKEND_SERVICE_HOST is not set",
			wantQuery: "BACKEND_SERVICE_HOST, BACKEND_SERVICE_PORT",
		},
		{
			name:    "empty host",
			environ: map[string]string{"BACKEND_SERVICE_HOST": "", "BACKEND_SERVICE_PORT": "8080"},
			service: "backend", wantErr: "BACKEND_SERVICE_HOST is not set",
			wantQuery: "BACKEND_SERVICE_HOST, BACKEND_SERVICE_PORT",
		},
		{
			name:    "nil environ",
			environ: nil, service: "backend", wantErr: "BACKEND_SERVICE_HOST",
			wantQuery: "BACKEND_SERVICE_HOST, BACKEND_SERVICE_PORT",
		},
		{
			name:    "host without port",
			environ: map[string]string{"BACKEND_SERVICE_HOST": "10.96.4.20"},
			service: "backend", wantErr: "BACKEND_SERVICE_PORT is not",
			wantQuery: "BACKEND_SERVICE_HOST, BACKEND_SERVICE_PORT",
		},
		{
			name:    "host with only the unnamed port when a named one is wanted",
			environ: map[string]string{"BACKEND_SERVICE_HOST": "10.96.4.20", "BACKEND_SERVICE_PORT": "8080"},
			service: "backend", portName: "http", wantErr: "BACKEND_SERVICE_PORT_HTTP is not",
			wantQuery: "BACKEND_SERVICE_HOST, BACKEND_SERVICE_PORT_HTTP",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := discovery.FromEnv(tt.environ, tt.service, tt.portName)
			// The report shows what was looked up, found or not.
			if query := cmp.Or(got.Query, discovery.QueryOf(err)); query != tt.wantQuery {
				t.Errorf("FromEnv(%v, %q, %q) query = %q, want %q", tt.environ, tt.service, tt.portName, query, tt.wantQuery)
			}
			if tt.wantErr != "" {
				if !errors.Is(err, discovery.ErrUnconfigured) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("FromEnv(%v, %q, %q) error = %v, want ErrUnconfigured saying %q", tt.environ, tt.service, tt.portName, err, tt.wantErr)
				}
				if got.Addr != "" {
					t.Errorf("FromEnv(%v, %q, %q).Addr = %q on error, want empty", tt.environ, tt.service, tt.portName, got.Addr)
				}
				return
			}
			if err != nil || got.Addr != tt.wantAddr {
				t.Errorf("FromEnv(%v, %q, %q) = %q, %v, want %q, nil", tt.environ, tt.service, tt.portName, got.Addr, err, tt.wantAddr)
			}
			// The report's addresses show what the variables gave.
			if !slices.Equal(got.Found, []string{tt.wantAddr}) {
				t.Errorf("FromEnv(%v, %q, %q).Found = %v, want [%s]", tt.environ, tt.service, tt.portName, got.Found, tt.wantAddr)
			}
		})
	}
}

func TestServiceLinks(t *testing.T) {
	t.Parallel()
	environ := map[string]string{
		"BACKEND_SERVICE_HOST":      "10.96.4.20",
		"BACKEND_SERVICE_PORT":      "8080",
		"BACKEND_SERVICE_PORT_HTTP": "8080",
		"KUBERNETES_SERVICE_HOST":   "10.96.0.1",
		// Docker-link style variables are not service links in this sense.
		"BACKEND_PORT":          "tcp://10.96.4.20:8080",
		"BACKEND_PORT_8080_TCP": "tcp://10.96.4.20:8080",
		"PODPATHS_POD_NAME":     "frontend-0",
		"PATH":                  "/usr/bin",
		"HOSTNAME":              "frontend-0",
	}
	want := []report.Link{
		{Name: "BACKEND_SERVICE_HOST", Value: "10.96.4.20"},
		{Name: "BACKEND_SERVICE_PORT", Value: "8080"},
		{Name: "BACKEND_SERVICE_PORT_HTTP", Value: "8080"},
		{Name: "KUBERNETES_SERVICE_HOST", Value: "10.96.0.1"},
	}
	if got := discovery.ServiceLinks(environ); !slices.Equal(got, want) {
		t.Errorf("ServiceLinks(%v) = %v, want %v, sorted by name", environ, got, want)
	}
	if got := discovery.ServiceLinks(nil); got == nil || len(got) != 0 {
		t.Errorf("ServiceLinks(nil) = %#v, want an empty, non-nil list (it is encoded as [] in /api/links)", got)
	}
}

func TestServiceName(t *testing.T) {
	t.Parallel()
	tests := []struct{ service, namespace, domain, want string }{
		{service: "backend", namespace: "podpaths", domain: "cluster.local", want: "backend.podpaths.svc.cluster.local"},
		{service: "backend", namespace: "", domain: "cluster.local", want: "backend.default.svc.cluster.local"},
		{service: "backend", namespace: "podpaths", domain: "", want: "backend"},
		{service: "backend", namespace: "", domain: "", want: "backend"},
		{service: "backend-headless", namespace: "podpaths", domain: "k8s.example", want: "backend-headless.podpaths.svc.k8s.example"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			if got := discovery.ServiceName(tt.service, tt.namespace, tt.domain); got != tt.want {
				t.Errorf("ServiceName(%q, %q, %q) = %q, want %q", tt.service, tt.namespace, tt.domain, got, tt.want)
			}
		})
	}
}
