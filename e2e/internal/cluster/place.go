package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podpaths/podpaths/lab/facts"
	"github.com/podpaths/podpaths/lab/kindlab"
	"github.com/podpaths/podpaths/lab/matrix"
)

// Where the suite stands: the nodes it runs probes on, the outside client,
// and which addresses belong to the nodes.

// learnPlace checks the declared kind of cluster and learns what this
// machine can reach besides the node IPs: the local provider's facts file,
// kind's localhost port mapping, and the explicit settings over both.
func (e *Env) learnPlace() error {
	e.Kind = e.Opts.Cluster
	var err error
	switch e.Kind {
	case "local":
		err = e.learnLocal()
	case "kind":
		err = e.learnKind()
	case "other":
	default:
		err = fmt.Errorf("unknown cluster kind %q", e.Kind)
	}
	if err != nil {
		return err
	}
	if e.Opts.Localhost != "" {
		e.Localhost = matrix.Localhost{Address: e.Opts.Localhost}
	}
	if e.Opts.OutsideNetns != "" {
		e.Outside = &Outside{Netns: e.Opts.OutsideNetns, IP: e.Opts.OutsideIP}
	}
	if e.Outside == nil {
		e.Unrouted = e.serviceRangeUnrouted()
	}
	return nil
}

// serviceRangeUnrouted reports whether this machine has no route to the
// Service range, judged by the API server's own Service, whose ClusterIP
// is the range's first address.
func (e *Env) serviceRangeUnrouted() bool {
	svc, err := e.Client.CoreV1().Services(metav1.NamespaceDefault).Get(context.Background(), "kubernetes", metav1.GetOptions{})
	if err != nil {
		return false
	}
	ip, err := netip.ParseAddr(svc.Spec.ClusterIP)
	return err == nil && matrix.Unrouted(ip)
}

// learnLocal reads the local provider's facts file, which must describe
// this cluster.
func (e *Env) learnLocal() error {
	f, err := facts.Read(e.Opts.FactsFile)
	if err != nil {
		return fmt.Errorf("declared a local cluster, but: %w", err)
	}
	if e.node(f.NodeName) == nil {
		return fmt.Errorf("declared a local cluster, but %s describes node %s, which this cluster does not have", e.Opts.FactsFile, f.NodeName)
	}
	// The local provider's kube-proxy serves NodePorts on 127.0.0.1 too
	// (route_localnet), on the control-plane node.
	e.Localhost = matrix.Localhost{Address: "127.0.0.1:" + strconv.Itoa(LabNodePort), Node: f.NodeName, OnNode: true}
	e.OnNode = f.NodeName
	e.NodeNetns = map[string]string{}
	for _, n := range f.Nodes {
		if n.NetNS != "" {
			e.NodeNetns[n.Name] = n.NetNS
		}
		if n.HostIP != "" {
			e.LinkIPs = append(e.LinkIPs, n.HostIP)
		}
	}
	if f.Outside.NetNS != "" {
		e.Outside = &Outside{Netns: f.Outside.NetNS, IP: f.Outside.IP}
	}
	e.ExternalLB = f.Outside.LoadBalancer
	if e.ExternalLB == "" {
		e.NoExternalLB = "the local cluster's facts name no external load balancer on its outside client"
	}
	if f.Domain != "" && !e.Opts.domainSet {
		e.Opts.ClusterDomain = f.Domain
	}
	return nil
}

// learnKind checks that the nodes are kind's, whose control plane's
// NodePort deploy/kind/cluster.yaml maps to 127.0.0.1 on this machine.
func (e *Env) learnKind() error {
	if !e.isKind() {
		return errors.New("declared a kind cluster, but its nodes' provider IDs are not kind://")
	}
	cp := e.controlPlane()
	e.Localhost = matrix.Localhost{Address: "127.0.0.1:" + strconv.Itoa(LabNodePort), Node: cp}
	// kind names the control plane <cluster>-control-plane.
	e.ExternalLB, e.NoExternalLB = kindlab.ExternalLB(context.Background(), strings.TrimSuffix(cp, "-control-plane"))
	return nil
}

func (e *Env) node(name string) *Node {
	for i := range e.Nodes {
		if e.Nodes[i].Name == name {
			return &e.Nodes[i]
		}
	}
	return nil
}

// isKind reports whether the nodes are kind's: kind names each node's
// provider ID kind://docker/<cluster>/<node>.
func (e *Env) isKind() bool {
	list, err := e.Client.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{Limit: 1})
	return err == nil && len(list.Items) > 0 && strings.HasPrefix(list.Items[0].Spec.ProviderID, "kind://")
}

func (e *Env) controlPlane() string {
	list, err := e.Client.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{
		LabelSelector: "node-role.kubernetes.io/control-plane",
	})
	if err != nil || len(list.Items) == 0 {
		return ""
	}
	return list.Items[0].Name
}

// ClientOn is a client on node: this machine when it is that node, a run
// in the node's network namespace when it has one. Nil when there is no way
// to be a client on that node from here (kind's nodes are containers).
func (e *Env) ClientOn(node Node) *Outside {
	if netns := e.NodeNetns[node.Name]; netns != "" {
		return &Outside{Netns: netns, IP: node.IP}
	}
	return nil
}

// SchedulableNodes are the nodes ordinary pods can land on.
func (e *Env) SchedulableNodes() []Node {
	var out []Node
	for _, n := range e.Nodes {
		if n.Schedulable && n.Ready {
			out = append(out, n)
		}
	}
	return out
}

// BehindExternalLB are the node names the lab's load balancer in front of
// the NodePorts sends traffic to.
func (e *Env) BehindExternalLB() []string {
	var out []string
	for _, n := range e.Nodes {
		if n.BehindExternalLB {
			out = append(out, n.Name)
		}
	}
	return out
}

// IsNodeSide reports whether ip belongs to a node rather than to a client:
// a node's InternalIP, or the gateway address of a node's pod range (the CNI
// bridge), which is what source NAT toward a local pod leaves.
func (e *Env) IsNodeSide(ip string) bool {
	if slices.Contains(e.LinkIPs, ip) {
		return true
	}
	for _, n := range e.Nodes {
		if n.IP == ip {
			return true
		}
		for _, cidr := range n.PodCIDRs {
			if gw, err := gateway(cidr); err == nil && gw == ip {
				return true
			}
		}
	}
	return false
}

// gateway is the first host address of a range: 10.244.0.0/24 -> 10.244.0.1.
func gateway(cidr string) (string, error) {
	_, n, err := net.ParseCIDR(cidr)
	if err != nil {
		return "", err
	}
	ip := n.IP.To4()
	if ip == nil {
		return "", fmt.Errorf("not IPv4: %s", cidr)
	}
	gw := slices.Clone(ip)
	gw[3]++
	return gw.String(), nil
}

// NodePortAddr is host:port of a NodePort on a node.
func NodePortAddr(nodeIP string, port int32) string {
	return net.JoinHostPort(nodeIP, strconv.Itoa(int(port)))
}
