package api

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestEntryOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, forwardedHost, realIP string
		wantVia, wantHost           string
		wantHops                    int
	}{
		{"direct", "", "", "direct", "127.0.0.1:3000", 1},
		{"through the NodePort", "localhost:30080", "10.244.0.1", "NodePort 30080 -> nginx", "localhost:30080", 2},
		{"through the LoadBalancer", "10.97.0.100", "10.244.0.1", "port 80 (LoadBalancer) -> nginx", "10.97.0.100", 2},
		{"through compose's published port", "127.0.0.1:8088", "172.18.0.1", "port 8088 -> nginx", "127.0.0.1:8088", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/", nil)
			r.Host = "127.0.0.1:3000"
			r.RemoteAddr = "127.0.0.1:40000"
			if tt.realIP != "" {
				r.Header.Set("X-Real-IP", tt.realIP)
				r.Header.Set("X-Forwarded-Host", tt.forwardedHost)
			}
			e := entryOf(r)
			if e.Via != tt.wantVia || e.Host != tt.wantHost || len(e.ClientIPs) != tt.wantHops {
				t.Errorf("entryOf(X-Forwarded-Host %q, X-Real-IP %q) = via %q host %q hops %v, want %q %q and %d hops",
					tt.forwardedHost, tt.realIP, e.Via, e.Host, e.ClientIPs, tt.wantVia, tt.wantHost, tt.wantHops)
			}
		})
	}
}
