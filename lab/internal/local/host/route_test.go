package host

import (
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
