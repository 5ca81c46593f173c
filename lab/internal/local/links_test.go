package local

import (
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/podpaths/podpaths/lab/internal/local/cluster"
	"github.com/podpaths/podpaths/lab/internal/local/cluster/clustertest"
)

func TestLinkRangesComeFromOptionEnvironmentSavedDefault(t *testing.T) {
	t.Parallel()
	p := New(Options{Name: "podpaths", StateDir: t.TempDir()})
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	def := cluster.DefaultLinkRanges()
	ask := func(what string, want cluster.LinkRanges) {
		t.Helper()
		got, err := p.askedLinkRanges(getenv)
		if err != nil || got != want {
			t.Errorf("%s: asked link ranges %+v, %v; want %+v", what, got, err, want)
		}
	}
	ask("nothing set", def)

	env[OutsideRangeEnv] = "192.168.77.0/30"
	moved := cluster.LinkRanges{Outside: netip.MustParsePrefix("192.168.77.0/30"), NodeLinks: def.NodeLinks}
	ask("the environment", moved)
	p.opts.OutsideRange = netip.MustParsePrefix("192.168.88.0/30")
	ask("the option over the environment", cluster.LinkRanges{Outside: p.opts.OutsideRange, NodeLinks: def.NodeLinks})
	p.opts.OutsideRange = netip.Prefix{}

	// up saves what it used; the commands after it read that, whatever
	// their environment says.
	c, err := clustertest.New(t).WithLinkRanges(moved)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.saveLinkRanges(c); err != nil {
		t.Fatal(err)
	}
	delete(env, OutsideRangeEnv)
	ask("saved by up", moved)
	if got, err := p.savedLinkRanges(); err != nil || got != moved {
		t.Errorf("saved link ranges %+v, %v; want %+v", got, err, moved)
	}

	env[NodeLinkRangeEnv] = "not-a-range"
	if _, err := p.askedLinkRanges(getenv); err == nil || !strings.Contains(err.Error(), NodeLinkRangeEnv) {
		t.Errorf("a bad %s: %v; want an error naming the variable", NodeLinkRangeEnv, err)
	}
}

func TestSaveLinkRangesRefusesToMoveARunningCluster(t *testing.T) {
	t.Parallel()
	p := New(Options{Name: "podpaths", StateDir: t.TempDir()})
	if err := p.saveLinkRanges(clustertest.New(t)); err != nil {
		t.Fatal(err)
	}
	// The cluster is up: cluster.json exists.
	if err := os.WriteFile(p.layout.FactsFile(), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := p.saveLinkRanges(clustertest.New(t)); err != nil {
		t.Errorf("up again with the same ranges: %v", err)
	}
	moved, err := clustertest.New(t).WithLinkRanges(cluster.LinkRanges{
		Outside: netip.MustParsePrefix("192.168.77.0/30"), NodeLinks: cluster.DefaultLinkRanges().NodeLinks})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.saveLinkRanges(moved); err == nil || !strings.Contains(err.Error(), "make local-down first") {
		t.Errorf("up with other ranges while the cluster is up: %v; want a refusal", err)
	}
}
