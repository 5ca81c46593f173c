package nodes

import (
	"slices"
	"strings"
	"testing"

	"github.com/podpaths/podpaths/lab/internal/local/cluster/clustertest"
	"github.com/podpaths/podpaths/lab/internal/local/host/hosttest"
)

func TestOutsideClientHasNoDefaultRoute(t *testing.T) {
	t.Parallel()
	c := clustertest.New(t)
	var got []string
	for _, r := range outsideRoutes(c) {
		got = append(got, strings.Join(r.Args(), " "))
	}
	want := []string{"192.0.2.2/32 via 172.31.0.1 dev eth0", "10.97.0.0/24 via 172.31.0.1 dev eth0"}
	if !slices.Equal(got, want) {
		t.Errorf("outside routes: got %v, want %v", got, want)
	}
	for _, cmd := range outsideCommands(c) {
		if slices.Contains(cmd, "default") || slices.Contains(cmd, "0.0.0.0/0") {
			t.Errorf("outside client gets a default route: %v", cmd)
		}
	}
}

// TestOutsideClientServiceRoute checks the route the workshop gives the
// outside client and takes away again; `up` always takes it away.
func TestOutsideClientServiceRoute(t *testing.T) {
	t.Parallel()
	c := clustertest.New(t)
	cmds := outsideCommands(c)
	if last := strings.Join(cmds[len(cmds)-1], " "); last != "route flush exact 10.96.0.0/16" {
		t.Errorf("outside commands end with %q, want the Service range's route flushed", last)
	}
	h := hosttest.New()
	for _, add := range []bool{true, false} {
		if err := RouteServices(t.Context(), h, c, add); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		"nsenter --net=" + c.Outside.NetNS + " ip route replace 10.96.0.0/16 via 172.31.0.1 dev eth0",
		"nsenter --net=" + c.Outside.NetNS + " ip route flush exact 10.96.0.0/16",
	}
	if got := h.Commands(); !slices.Equal(got, want) {
		t.Errorf("RouteServices(add, then remove) ran %q, want %q", got, want)
	}
}

func TestOutsideClientLifecycle(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	c := clustertest.New(t)
	h := hosttest.New()
	if err := EnsureOutside(ctx, h, c); err != nil {
		t.Fatal(err)
	}
	cmds := strings.Join(h.Commands(), "\n")
	for _, want := range []string{
		"unshare --net=" + c.Outside.NetNS + " true",
		"ip link add podpaths-out type veth peer name eth0 netns " + c.Outside.NetNS,
		"ip addr replace 172.31.0.1/30 dev podpaths-out",
		"nsenter --net=" + c.Outside.NetNS + " ip addr replace 172.31.0.2/30 dev eth0",
	} {
		if !strings.Contains(cmds, want) {
			t.Errorf("EnsureOutside did not run %q:\n%s", want, cmds)
		}
	}
	if err := EnsureOutside(ctx, h, c); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range h.Commands() {
		if strings.HasPrefix(cmd, "unshare") || strings.Contains(cmd, "link add") {
			t.Errorf("second EnsureOutside recreated: %s", cmd)
		}
	}
	if err := RemoveOutside(ctx, h, c); err != nil {
		t.Fatal(err)
	}
	if h.Links["podpaths-out"] || h.Mounts[c.Outside.NetNS] {
		t.Errorf("after RemoveOutside: links %v, mounts %v", h.Links, h.Mounts)
	}
	if err := RemoveOutside(ctx, h, c); err != nil {
		t.Errorf("removing again: %v", err)
	}
}
