package host

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestDefaultRouteInterface(t *testing.T) {
	t.Parallel()
	table := `Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT
docker0	000011AC	00000000	0001	0	0	0	0000FFFF	0	0	0
eth0	00000000	010200C0	0003	0	0	0	00000000	0	0	0
eth0	000200C0	00000000	0001	0	0	0	00FFFFFF	0	0	0
`
	got, err := defaultRouteInterface(table)
	if err != nil || got != "eth0" {
		t.Errorf("defaultRouteInterface: got %q, %v; want eth0", got, err)
	}
	if _, err := defaultRouteInterface(strings.Split(table, "\n")[0] + "\n"); err == nil {
		t.Error("a table without a default route: got no error")
	}
}

func TestParseRoutes(t *testing.T) {
	t.Parallel()
	table := "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n" +
		"eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n" +
		"docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n" +
		"eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n" +
		"*\t0000F40A\t00000000\t0201\t0\t0\t0\t0000FFFF\t0\t0\t0\n"
	got, err := parseRoutes(table)
	if err != nil {
		t.Fatal(err)
	}
	want := []Network{
		{Prefix: netip.MustParsePrefix("172.17.0.0/16"), Dev: "docker0"},
		{Prefix: netip.MustParsePrefix("192.0.2.0/24"), Dev: "eth0"},
		{Prefix: netip.MustParsePrefix("10.244.0.0/16"), Dev: "*"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("parseRoutes = %v, want %v (the default route left out)", got, want)
	}
	if _, err := parseRoutes("Iface\tDestination\nx\tnothex\t0\t0\t0\t0\t0\t00FFFFFF\n"); err == nil {
		t.Error("a line that does not parse: no error")
	}
}
