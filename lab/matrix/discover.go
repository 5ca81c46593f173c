package matrix

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podpaths/podpaths/lab/kube"
)

// node is a node and the address the matrix calls it on.
type node struct {
	name string
	ip   string // InternalIP; "" when the node has none
	// behindLB: the external load balancer in front of the NodePorts
	// sends traffic to this node (kube.BehindExternalLB).
	behindLB bool
}

// targets is what the API says about the entries, read once per run.
type targets struct {
	nodes []node

	// The NodePort Service: its port, its traffic policy, and the nodes that
	// have a ready endpoint (they matter under externalTrafficPolicy Local).
	nodePort      int32
	nodePortErr   error
	etpLocal      bool
	endpointNodes map[string]bool

	// The LoadBalancer Service: its ingress address, or why there is none.
	lbAddress string
	lbSkip    string
	lbErr     error
	// proxyPort is the LoadBalancer Service's port, used by the API-server
	// proxy fallback; 0 when that Service is missing.
	proxyPort int32

	// backendAddr is the backend Service's ClusterIP and port, or why it
	// cannot be known.
	backendAddr string
	backendErr  error
	// readyBackends counts the backend Service's ready endpoints; -1 when
	// unknown.
	readyBackends int
	// backendNodes counts the backend's ready endpoints by node.
	backendNodes map[string]int

	// frontends are the ready frontend pods, one per node, that the per-node
	// actions ask (PerNode).
	frontends []podOnNode
}

// podOnNode is a ready pod of a Service, its node and its target port.
type podOnNode struct {
	pod, node string
	port      int32
}

// discover reads nodes, Services and EndpointSlices. Only a failure to list
// nodes is fatal: without nodes there is no cluster to check.
func (c *Checker) discover(ctx context.Context) (targets, error) {
	var t targets
	nodes, err := c.client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return t, fmt.Errorf("list nodes: %w", err)
	}
	for i := range nodes.Items {
		n := &nodes.Items[i]
		t.nodes = append(t.nodes, node{name: n.Name, ip: kube.InternalIP(n), behindLB: kube.BehindExternalLB(n)})
	}
	c.discoverNodePort(ctx, &t)
	c.discoverLoadBalancer(ctx, &t)
	c.discoverBackend(ctx, &t)
	t.readyBackends = c.readyEndpoints(ctx, c.cfg.BackendService)
	t.backendNodes = map[string]int{}
	for _, p := range c.readyPods(ctx, c.cfg.BackendService, false) {
		t.backendNodes[p.node]++
	}
	if c.cfg.PerNode {
		t.frontends = c.readyPods(ctx, c.cfg.NodePortService, true)
	}
	return t, nil
}

// readyPods lists a Service's ready endpoints that name their pod and node,
// sorted by node, with the port of their EndpointSlice (which
// kube.ReadyEndpoints leaves out); onePerNode keeps the first pod of each
// node. None when the slices cannot be read.
func (c *Checker) readyPods(ctx context.Context, service string, onePerNode bool) []podOnNode {
	list, err := kube.EndpointSlices(ctx, c.client, c.cfg.Namespace, service)
	if err != nil {
		return nil
	}
	var pods []podOnNode
	seen := map[string]bool{}
	for _, s := range list {
		var port int32
		if len(s.Ports) > 0 && s.Ports[0].Port != nil {
			port = *s.Ports[0].Port
		}
		for _, e := range s.Endpoints {
			if !kube.Ready(e) || e.NodeName == nil || e.TargetRef == nil || e.TargetRef.Kind != "Pod" {
				continue
			}
			if onePerNode && seen[*e.NodeName] {
				continue
			}
			seen[*e.NodeName] = true
			pods = append(pods, podOnNode{pod: e.TargetRef.Name, node: *e.NodeName, port: port})
		}
	}
	slices.SortFunc(pods, func(a, b podOnNode) int {
		return cmp.Or(strings.Compare(a.node, b.node), strings.Compare(a.pod, b.pod))
	})
	return pods
}

func (c *Checker) discoverNodePort(ctx context.Context, t *targets) {
	svc, err := c.service(ctx, c.cfg.NodePortService)
	if err != nil {
		t.nodePortErr = err
		return
	}
	if len(svc.Spec.Ports) == 0 || svc.Spec.Ports[0].NodePort == 0 {
		t.nodePortErr = fmt.Errorf("service %s/%s has no nodePort (type %s)", c.cfg.Namespace, svc.Name, svc.Spec.Type)
		return
	}
	t.nodePort = svc.Spec.Ports[0].NodePort
	t.etpLocal = svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal
	t.endpointNodes = c.endpointNodes(ctx, svc.Name)
}

func (c *Checker) discoverLoadBalancer(ctx context.Context, t *targets) {
	svc, err := c.service(ctx, c.cfg.LoadBalancerService)
	if err != nil {
		t.lbErr = err
		return
	}
	if len(svc.Spec.Ports) == 0 {
		t.lbErr = fmt.Errorf("service %s/%s has no ports", c.cfg.Namespace, svc.Name)
		return
	}
	port := svc.Spec.Ports[0].Port
	t.proxyPort = port
	if svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
		t.lbSkip = fmt.Sprintf("service %s is type %s, not LoadBalancer", svc.Name, svc.Spec.Type)
		return
	}
	for _, in := range svc.Status.LoadBalancer.Ingress {
		host := in.IP
		if host == "" {
			host = in.Hostname
		}
		if host != "" {
			t.lbAddress = net.JoinHostPort(host, strconv.Itoa(int(port)))
			return
		}
	}
	// Pending is normal until a LoadBalancer controller (cloud-provider-kind
	// on kind) has assigned an address, so it is a skip, not a failure.
	t.lbSkip = fmt.Sprintf("service %s has no LoadBalancer ingress address yet: no LoadBalancer controller has assigned one", svc.Name)
}

func (c *Checker) discoverBackend(ctx context.Context, t *targets) {
	svc, err := c.service(ctx, c.cfg.BackendService)
	switch {
	case err != nil:
		t.backendErr = err
	case len(svc.Spec.Ports) == 0 || net.ParseIP(svc.Spec.ClusterIP) == nil:
		t.backendErr = fmt.Errorf("service %s/%s has no ClusterIP and port", c.cfg.Namespace, svc.Name)
	default:
		t.backendAddr = net.JoinHostPort(svc.Spec.ClusterIP, strconv.Itoa(int(svc.Spec.Ports[0].Port)))
	}
}

func (c *Checker) service(ctx context.Context, name string) (*corev1.Service, error) {
	svc, err := c.client.CoreV1().Services(c.cfg.Namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("service %s/%s not found (is the lab deployed?)", c.cfg.Namespace, name)
	}
	if err != nil {
		return nil, fmt.Errorf("get service %s/%s: %w", c.cfg.Namespace, name, err)
	}
	return svc, nil
}

// endpointNodes returns the nodes that hold a ready endpoint of a Service;
// none when they cannot be read.
func (c *Checker) endpointNodes(ctx context.Context, service string) map[string]bool {
	nodes := map[string]bool{}
	eps, err := kube.ReadyEndpoints(ctx, c.client, c.cfg.Namespace, service)
	if err != nil {
		return nodes
	}
	for _, e := range eps {
		if e.Node != "" {
			nodes[e.Node] = true
		}
	}
	return nodes
}

// readyEndpoints counts a Service's ready endpoints, or -1 when unknown.
func (c *Checker) readyEndpoints(ctx context.Context, service string) int {
	eps, err := kube.ReadyEndpoints(ctx, c.client, c.cfg.Namespace, service)
	if err != nil {
		return -1
	}
	return len(eps)
}
