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
	want := []string{"192.0.2.2/32 via 172.31.0.1 dev eth0", "10.97.0.0/24 via 172.31.0.1 dev eth0", "10.96.0.0/16 via 172.31.0.1 dev eth0"}
	if !slices.Equal(got, want) {
		t.Errorf("outside routes: got %v, want %v", got, want)
	}
	for _, cmd := range outsideCommands(c) {
		if slices.Contains(cmd, "default") || slices.Contains(cmd, "0.0.0.0/0") {
			t.Errorf("outside client gets a default route: %v", cmd)
		}
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
