package kind

import (
	"fmt"
	"net/netip"
	"strings"

	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"

	"github.com/podpaths/podpaths/lab/matrix"
	"github.com/podpaths/podpaths/platform/probe"
)

// OutsideClient is this machine, the only client outside kind's nodes, when
// it has no route to the cluster's Service range: a call to a ClusterIP then
// fails here as it would on any machine outside the cluster, and sends
// nothing. With a route (usually the default one) the call would leave the
// machine, so the lab does not send it.
func (p *Provider) OutsideClient() (probe.DialFunc, string) {
	subnet, err := p.serviceSubnet()
	if err != nil {
		return nil, "kind: " + err.Error()
	}
	if !matrix.Unrouted(subnet.Addr().Next()) {
		return nil, fmt.Sprintf("kind: this machine, the only client outside the cluster, has a route to the Service range %s "+
			"(usually its default route), so the call would leave the machine; with none it runs here (ip route add throw %s)",
			subnet, subnet)
	}
	return matrix.DialUnrouted, ""
}

// serviceSubnet is the cluster's Service range as its config gives it, or
// kind's default.
func (p *Provider) serviceSubnet() (netip.Prefix, error) {
	raw, err := p.readConfig()
	if err != nil {
		return netip.Prefix{}, err
	}
	return serviceSubnetFromConfig(raw)
}

func serviceSubnetFromConfig(raw []byte) (netip.Prefix, error) {
	cfg, err := parseConfig(raw)
	if err != nil {
		return netip.Prefix{}, err
	}
	v1alpha4.SetDefaultsCluster(&cfg)
	// A dual-stack range is "v4,v6"; the first is the primary family's.
	first, _, _ := strings.Cut(cfg.Networking.ServiceSubnet, ",")
	subnet, err := netip.ParsePrefix(first)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("kind config's serviceSubnet: %w", err)
	}
	return subnet.Masked(), nil
}
