package local

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"

	"github.com/podpaths/podpaths/lab/internal/local/cluster"
)

// The environment variables that move the cluster's link ranges when the
// options leave them unset: `PODPATHS_LOCAL_OUTSIDE_RANGE=192.168.77.0/30
// make local-up` on a machine whose own networks meet the defaults.
const (
	OutsideRangeEnv  = "PODPATHS_LOCAL_OUTSIDE_RANGE"
	NodeLinkRangeEnv = "PODPATHS_LOCAL_NODE_LINK_RANGE"
)

// askedLinkRanges are the link ranges `up` was asked for: each from the
// option, else the environment, else what the cluster that is up uses (so
// that a second `up` keeps them), else the default.
func (p *Provider) askedLinkRanges(getenv func(string) string) (cluster.LinkRanges, error) {
	r, err := p.savedLinkRanges()
	if err != nil {
		return r, err
	}
	for _, x := range []struct {
		opt  netip.Prefix
		env  string
		into *netip.Prefix
	}{{p.opts.OutsideRange, OutsideRangeEnv, &r.Outside}, {p.opts.NodeLinkRange, NodeLinkRangeEnv, &r.NodeLinks}} {
		switch v := getenv(x.env); {
		case x.opt.IsValid():
			*x.into = x.opt
		case v != "":
			pr, err := netip.ParsePrefix(v)
			if err != nil {
				return r, fmt.Errorf("%s=%q: not an IPv4 range such as 192.168.77.0/30", x.env, v)
			}
			*x.into = pr
		}
	}
	return r, r.Check()
}

// savedLinkRanges are the link ranges the last `up` saved, or the defaults
// when none did: `down`, `status` and `check` must find the links where
// `up` made them, whatever they are asked.
func (p *Provider) savedLinkRanges() (cluster.LinkRanges, error) {
	r := cluster.DefaultLinkRanges()
	raw, err := os.ReadFile(p.layout.LinkRangesFile())
	if errors.Is(err, os.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return r, fmt.Errorf("the local cluster's link ranges: %w", err)
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return r, fmt.Errorf("the local cluster's link ranges %s: %w", p.layout.LinkRangesFile(), err)
	}
	return r, nil
}

// saveLinkRanges records c's link ranges for the commands after `up`. It
// refuses to move them under a cluster that is up with others: its links,
// routes and guards are where the saved ranges say.
func (p *Provider) saveLinkRanges(c cluster.Cluster) error {
	saved, err := p.savedLinkRanges()
	if err != nil {
		return err
	}
	want := c.LinkRanges()
	if _, err := os.Stat(p.layout.FactsFile()); err == nil && saved != want {
		return fmt.Errorf("the local cluster is up with the outside client's range %s and the node link range %s; "+
			"make local-down first to move them to %s and %s", saved.Outside, saved.NodeLinks, want.Outside, want.NodeLinks)
	}
	raw, err := json.Marshal(want)
	if err != nil {
		return err
	}
	if err := os.WriteFile(p.layout.LinkRangesFile(), append(raw, '\n'), 0o644); err != nil {
		return fmt.Errorf("save the local cluster's link ranges: %w", err)
	}
	return nil
}
