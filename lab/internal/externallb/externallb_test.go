package externallb

import (
	"net/netip"
	"strings"
	"testing"
)

func TestRender(t *testing.T) {
	t.Parallel()
	servers := []Server{
		{Name: "podpaths-worker", Addr: netip.MustParseAddrPort("172.18.0.3:30080")},
		{Name: "podpaths-worker2", Addr: netip.MustParseAddrPort("172.18.0.4:30080")},
	}
	for _, tt := range []struct {
		name, user string
	}{{"a container: its image's user", ""}, {"started as root: drops to haproxy", "haproxy"}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			raw, err := Render(Config{Listen: "0.0.0.0:8080", User: tt.user, Where: "a container", Servers: servers})
			if err != nil {
				t.Fatal(err)
			}
			cfg := string(raw)
			for _, want := range []string{
				"bind 0.0.0.0:8080",
				"server podpaths-worker 172.18.0.3:30080 check port 10256",
				"server podpaths-worker2 172.18.0.4:30080 check port 10256",
				"# It runs in a container.",
			} {
				if !strings.Contains(cfg, want) {
					t.Errorf("haproxy.cfg lacks %q:\n%s", want, cfg)
				}
			}
			if got := strings.Contains(cfg, "\n    user haproxy\n    group haproxy\n"); got != (tt.user != "") {
				t.Errorf("user and group lines present: %t, want %t:\n%s", got, tt.user != "", cfg)
			}
		})
	}
}
