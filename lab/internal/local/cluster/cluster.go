// Package cluster describes the local cluster as data: its address ranges,
// its nodes and the outside client (Cluster), what the e2e suite reads of it
// (Facts), and where its state lives on disk (Layout). The provider's other
// packages derive everything they do from these.
package cluster

import (
	"fmt"
	"net/netip"
	"path/filepath"

	"github.com/podpaths/podpaths/lab/facts"
)

// Cluster is everything the local cluster is made of that is not a binary:
// its address ranges, its nodes and the outside client. Every config file,
// certificate, network rule and command line is derived from it, so the
// tests can check them without a machine to run them on.
type Cluster struct {
	// Name names the cluster in kubeconfigs; node names start with it.
	Name string
	// Domain is the DNS domain of Services (cluster.local).
	Domain string
	// ServiceCIDR holds the ClusterIPs. The first address is the
	// `kubernetes` Service, DNSIP the `kube-dns` one.
	ServiceCIDR netip.Prefix
	DNSIP       netip.Addr
	// PodCIDR is split into one range per node (Node.PodCIDR).
	PodCIDR netip.Prefix
	// LBCIDR holds the LoadBalancer addresses that MetalLB's controller
	// assigns from deploy/local-lb's pool.
	LBCIDR netip.Prefix
	// NodeLinkCIDR holds the veth pairs that join the host to the nodes in
	// network namespaces of their own: a /30 per node, host end first.
	NodeLinkCIDR netip.Prefix
	// NodePortRange is the API server's --service-node-port-range.
	NodePortRange string
	// APIServerPort is the API server's port on the first node's IP.
	APIServerPort int
	// SinkBridge is the empty bridge the Service and LoadBalancer ranges are
	// routed to: this kernel has no dummy interfaces, and a packet for an
	// address that kube-proxy does not rewrite must die on this machine.
	SinkBridge string
	// Nodes run a containerd, a kubelet and a kube-proxy each. The first one
	// also runs the control plane.
	Nodes []Node
	// Outside is a client that is not a node, for the external paths.
	Outside Outside
	// StateDir holds everything the cluster writes at run time.
	StateDir string
}

// Node is one Kubernetes node.
type Node struct {
	// Name is the Node object's name (kubelet --hostname-override).
	Name string
	// IP is the node's InternalIP, where NodePorts answer.
	IP netip.Addr
	// PodCIDR is this node's slice of Cluster.PodCIDR. The CNI config and the
	// Node object (created before the kubelet registers) both carry it.
	PodCIDR netip.Prefix
	// Bridge is the CNI bridge the node's pods hang off.
	Bridge string
	// NetNS is the file of the network namespace the node runs in, pinned
	// with `unshare --net=FILE`; "" is the host's (node A).
	NetNS string
	// HostLink is the host interface through which the host reaches the
	// node's pods: the bridge itself for a node in the host namespace, the
	// host end of the node's veth pair for a node in its own.
	HostLink string
	// PeerLink and HostIP are, for a node in its own namespace, the veth
	// end inside it (which holds IP) and the host end's address, the node's
	// only way out: it has no default route.
	PeerLink string
	HostIP   netip.Prefix
	// CgroupRoot is the kubelet's cgroupRoot; "" is "/". Two kubelets on one
	// machine need different ones.
	CgroupRoot string
}

// Outside is a network namespace that plays a client outside the cluster: it
// reaches the node IPs, the LoadBalancer range and the Service range through
// the host, and nothing else, because it has no default route.
type Outside struct {
	// NetNS is the file the namespace is pinned on (unshare --net=FILE).
	NetNS string
	// HostLink and PeerLink are the two ends of the veth pair: on the host
	// and inside the namespace.
	HostLink string
	PeerLink string
	// HostIP and IP are the addresses of the two ends, in one small range.
	HostIP netip.Prefix
	IP     netip.Prefix
}

// ExternalLBPort is the external load balancer's port.
const ExternalLBPort = 8080

// ExternalLB is where the external load balancer in front of the NodePorts
// listens: on the outside client, a machine of its own.
func (c Cluster) ExternalLB() netip.AddrPort {
	return netip.AddrPortFrom(c.Outside.IP.Addr(), ExternalLBPort)
}

// Defaults of the local cluster (docs: notes/contract "Offline local cluster").
var (
	defaultServiceCIDR = netip.MustParsePrefix("10.96.0.0/16")
	defaultDNSIP       = netip.MustParseAddr("10.96.0.10")
	defaultPodCIDR     = netip.MustParsePrefix("10.244.0.0/16")
	defaultLBCIDR      = netip.MustParsePrefix("10.97.0.0/24")
	defaultNodeLinks   = netip.MustParsePrefix("172.30.0.0/24")
	defaultOutside     = netip.MustParsePrefix("172.31.0.0/30")
)

// LinkRanges are the ranges of the links the cluster makes to the nodes in
// namespaces of their own and to the outside client. They are the ones most
// likely to meet a network this machine is already on (Docker gives its
// networks 172.17-31.x; an AWS default VPC is 172.31.0.0/16), so they can
// be moved; the Service, pod and LoadBalancer ranges are written into the
// manifests too (the pinned ClusterIP, MetalLB's pool) and cannot.
type LinkRanges struct {
	// Outside holds the outside client's link: the host's end is its first
	// address, the client the second.
	Outside netip.Prefix `json:"outside"`
	// NodeLinks holds a /30 for each node in a namespace of its own.
	NodeLinks netip.Prefix `json:"nodeLinks"`
}

// DefaultLinkRanges are the link ranges unless told otherwise.
func DefaultLinkRanges() LinkRanges {
	return LinkRanges{Outside: defaultOutside, NodeLinks: defaultNodeLinks}
}

// Check refuses ranges the cluster cannot use: each must be an IPv4
// network address with room for a /30 (a veth pair's two ends).
func (r LinkRanges) Check() error {
	for _, x := range []struct {
		name string
		p    netip.Prefix
	}{{"outside client's range", r.Outside}, {"node link range", r.NodeLinks}} {
		switch {
		case !x.p.IsValid() || !x.p.Addr().Is4():
			return fmt.Errorf("the %s %q is not an IPv4 range", x.name, x.p)
		case x.p.Masked() != x.p:
			return fmt.Errorf("the %s %s does not start at its network address (%s)", x.name, x.p, x.p.Masked())
		case x.p.Bits() > 30:
			return fmt.Errorf("the %s %s is smaller than a /30, which a veth pair's two ends need", x.name, x.p)
		}
	}
	return nil
}

// LinkRanges are the cluster's link ranges.
func (c Cluster) LinkRanges() LinkRanges {
	return LinkRanges{Outside: c.Outside.IP.Masked(), NodeLinks: c.NodeLinkCIDR}
}

// WithLinkRanges returns the cluster with its links in r: the outside
// client's two ends and, for the nodes WithNodes adds after it, their
// links.
func (c Cluster) WithLinkRanges(r LinkRanges) (Cluster, error) {
	if err := r.Check(); err != nil {
		return c, err
	}
	c.setLinkRanges(r)
	return c, nil
}

func (c *Cluster) setLinkRanges(r LinkRanges) {
	c.NodeLinkCIDR = r.NodeLinks
	c.Outside.HostIP = netip.PrefixFrom(r.Outside.Addr().Next(), r.Outside.Bits())
	c.Outside.IP = netip.PrefixFrom(r.Outside.Addr().Next().Next(), r.Outside.Bits())
}

// New returns the single-node cluster named name whose node has the
// InternalIP nodeIP, with its state under stateDir.
func New(name string, nodeIP netip.Addr, stateDir string) Cluster {
	c := Cluster{
		Name:          name,
		Domain:        "cluster.local",
		ServiceCIDR:   defaultServiceCIDR,
		DNSIP:         defaultDNSIP,
		PodCIDR:       defaultPodCIDR,
		LBCIDR:        defaultLBCIDR,
		NodePortRange: "30000-32767",
		APIServerPort: 6443,
		SinkBridge:    "podpaths-svc",
		Nodes: []Node{{
			Name:     name + "-a",
			IP:       nodeIP,
			PodCIDR:  netip.PrefixFrom(defaultPodCIDR.Addr(), 24),
			Bridge:   "cni0",
			HostLink: "cni0",
		}},
		Outside: Outside{
			NetNS:    filepath.Join(stateDir, "outside.netns"),
			HostLink: "podpaths-out",
			PeerLink: "eth0",
		},
		StateDir: stateDir,
	}
	c.setLinkRanges(DefaultLinkRanges())
	return c
}

// MaxNodes is the most nodes the local cluster runs: node A on the host and
// node B in a network namespace of its own. Each node is a containerd, a
// kubelet and a kube-proxy on one 2-core machine.
const MaxNodes = 2

// DefaultNodes is what `up` starts unless told otherwise: two nodes, so that
// cross-node paths and the traffic policies have something to show.
const DefaultNodes = 2

// WithNodes returns the cluster with n nodes. Node A is the host; each
// further node (B, ...) runs in a network namespace of its own, joined to the
// host by a veth pair from NodeLinkCIDR, with the next /24 of the pod range
// and a cgroup root of its own.
func (c Cluster) WithNodes(n int) (Cluster, error) {
	if n < 1 || n > MaxNodes {
		return c, fmt.Errorf("the local cluster runs 1 to %d nodes, not %d", MaxNodes, n)
	}
	c.Nodes = c.Nodes[:1:1]
	for i := 1; i < n; i++ {
		c.Nodes = append(c.Nodes, c.namespacedNode(i))
	}
	return c, nil
}

// namespacedNode is node number i (1 is B) in a network namespace of its own.
func (c Cluster) namespacedNode(i int) Node {
	letter := string(rune('a' + i))
	name := c.Name + "-" + letter
	link := c.NodeLinkCIDR.Addr().As4()
	link[3] += byte(4 * (i - 1))
	base := netip.AddrFrom4(link)
	pods := c.PodCIDR.Addr().As4()
	pods[2] += byte(i)
	return Node{
		Name:       name,
		IP:         base.Next().Next(),
		PodCIDR:    netip.PrefixFrom(netip.AddrFrom4(pods), 24),
		Bridge:     "cni0",
		NetNS:      filepath.Join(c.StateDir, name+".netns"),
		HostLink:   "podpaths-" + letter,
		PeerLink:   "eth0",
		HostIP:     netip.PrefixFrom(base.Next(), 30),
		CgroupRoot: "/" + name,
	}
}

// APIServerIP is the ClusterIP of the `kubernetes` Service: the first
// address of the Service range, which the API server's certificate must name.
func (c Cluster) APIServerIP() netip.Addr { return c.ServiceCIDR.Addr().Next() }

// ControlPlane is the node that also runs etcd and the control plane.
func (c Cluster) ControlPlane() Node { return c.Nodes[0] }

// APIServerURL is where every component and kubeconfig reaches the API
// server: the control plane node's IP, which a node in another network
// namespace reaches too (127.0.0.1 would be its own loopback).
func (c Cluster) APIServerURL() string {
	return "https://" + netip.AddrPortFrom(c.ControlPlane().IP, uint16(c.APIServerPort)).String()
}

// GatewayIP is the address of a node's CNI bridge: the first of its range.
func (n Node) GatewayIP() netip.Addr { return n.PodCIDR.Addr().Next() }

// Validate catches a cluster whose ranges overlap or do not fit together,
// before anything is configured with them.
func (c Cluster) Validate() error {
	if len(c.Nodes) == 0 {
		return fmt.Errorf("cluster %s has no nodes", c.Name)
	}
	ranges := map[string]netip.Prefix{
		"service": c.ServiceCIDR, "pod": c.PodCIDR, "LoadBalancer": c.LBCIDR, "outside": c.Outside.IP.Masked(),
		"node link": c.NodeLinkCIDR,
	}
	for a, pa := range ranges {
		for b, pb := range ranges {
			if a < b && pa.Overlaps(pb) {
				return fmt.Errorf("the %s range %s overlaps the %s range %s", a, pa, b, pb)
			}
		}
	}
	if !c.ServiceCIDR.Contains(c.DNSIP) {
		return fmt.Errorf("the DNS Service IP %s is outside the Service range %s", c.DNSIP, c.ServiceCIDR)
	}
	for i, n := range c.Nodes {
		if !n.IP.IsValid() {
			return fmt.Errorf("node %s has no IP", n.Name)
		}
		if !c.PodCIDR.Contains(n.PodCIDR.Addr()) || n.PodCIDR.Bits() < c.PodCIDR.Bits() {
			return fmt.Errorf("node %s: pod range %s is not inside %s", n.Name, n.PodCIDR, c.PodCIDR)
		}
		for j := range i {
			if c.Nodes[j].PodCIDR.Overlaps(n.PodCIDR) {
				return fmt.Errorf("nodes %s and %s have overlapping pod ranges", c.Nodes[j].Name, n.Name)
			}
		}
		for name, p := range ranges {
			if p.Contains(n.IP) && (n.NetNS == "" || name != "node link") {
				return fmt.Errorf("node %s: IP %s is inside the %s range %s", n.Name, n.IP, name, p)
			}
		}
		if err := c.validateLink(n); err != nil {
			return err
		}
	}
	return nil
}

// validateLink checks that a node in its own namespace has a veth pair whose
// two ends share one small range inside NodeLinkCIDR.
func (c Cluster) validateLink(n Node) error {
	if n.NetNS == "" {
		return nil
	}
	switch {
	case n.HostLink == "" || n.PeerLink == "":
		return fmt.Errorf("node %s runs in its own namespace but has no veth pair", n.Name)
	case !n.HostIP.IsValid() || !n.HostIP.Masked().Contains(n.IP) || n.HostIP.Addr() == n.IP:
		return fmt.Errorf("node %s: IP %s and host end %s are not two addresses of one range", n.Name, n.IP, n.HostIP)
	case !c.NodeLinkCIDR.Contains(n.IP):
		return fmt.Errorf("node %s: IP %s is outside the node link range %s", n.Name, n.IP, c.NodeLinkCIDR)
	case n.CgroupRoot == "":
		return fmt.Errorf("node %s shares the host's cgroup root; two kubelets would collect each other's pods", n.Name)
	}
	return nil
}

// Range is one of the cluster's address ranges, with what it is for.
type Range struct {
	Name   string
	Prefix netip.Prefix
}

// Ranges are every address range the cluster routes on this machine.
func (c Cluster) Ranges() []Range {
	return []Range{
		{"Service range", c.ServiceCIDR}, {"LoadBalancer range", c.LBCIDR}, {"pod range", c.PodCIDR},
		{"node link range", c.NodeLinkCIDR}, {"outside client's range", c.Outside.IP.Masked()},
	}
}

// Namespaced are the nodes that run in a network namespace of their own.
func (c Cluster) Namespaced() []Node {
	var ns []Node
	for _, n := range c.Nodes {
		if n.NetNS != "" {
			ns = append(ns, n)
		}
	}
	return ns
}

// Facts returns the cluster's cluster.json content.
func (c Cluster) Facts(kubeconfig string) facts.Facts {
	f := facts.Facts{
		Name:        c.Name,
		Kubeconfig:  kubeconfig,
		NodeName:    c.ControlPlane().Name,
		NodeIP:      c.ControlPlane().IP.String(),
		Outside:     facts.Outside{IP: c.Outside.IP.Addr().String(), NetNS: c.Outside.NetNS, LoadBalancer: c.ExternalLB().String()},
		ServiceCIDR: c.ServiceCIDR.String(),
		PodCIDR:     c.PodCIDR.String(),
		LBCIDR:      c.LBCIDR.String(),
		DNSIP:       c.DNSIP.String(),
		Domain:      c.Domain,
		NodePorts:   c.NodePortRange,
	}
	for _, n := range c.Nodes {
		nf := facts.Node{Name: n.Name, IP: n.IP.String(), PodCIDR: n.PodCIDR.String(), NetNS: n.NetNS}
		if n.HostIP.IsValid() {
			nf.HostIP = n.HostIP.Addr().String()
		}
		f.Nodes = append(f.Nodes, nf)
	}
	return f
}
