// Package kube reads what both `lab check` and the e2e suite need to know
// of nodes and Services from the Kubernetes API, so that the two agree on
// it: a node's InternalIP, and a Service's ready endpoints as kube-proxy and
// CoreDNS see them, from its EndpointSlices.
package kube

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
)

// PodReady reports whether a pod's Ready condition is true: every
// container passes its readiness probe, and the node lifecycle controller
// has not marked it not ready.
func PodReady(p *corev1.Pod) bool { return PodCondition(p, corev1.PodReady) }

// PodCondition reports whether the pod's condition t is true.
func PodCondition(p *corev1.Pod, t corev1.PodConditionType) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == t {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// NodeReady is the node's Ready condition, and what it says when it is
// not true ("" for a node whose kubelet never reported).
func NodeReady(n *corev1.Node) (ready bool, status string) {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue, fmt.Sprintf("%s: %s %s", c.Status, c.Reason, c.Message)
		}
	}
	return false, ""
}

// InternalIP is a node's first InternalIP address, "" when it has none: the
// address other nodes and NodePort clients inside the cluster's network
// reach it on.
func InternalIP(n *corev1.Node) string {
	for _, a := range n.Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			return a.Address
		}
	}
	return ""
}

// KubeProxyHealthPort is kube-proxy's default healthz port, which load
// balancers in front of the nodes ask.
const KubeProxyHealthPort = 10256

// ExcludeFromExternalLB is the label that keeps a node out of external load
// balancers; kubeadm (and so kind) puts it on control-plane nodes.
const ExcludeFromExternalLB = corev1.LabelNodeExcludeBalancers

// BehindExternalLB says whether a load balancer in front of the nodes'
// NodePorts sends traffic to n: every node but those labelled to be left out,
// as cloud load balancer controllers do.
func BehindExternalLB(n *corev1.Node) bool {
	_, excluded := n.Labels[ExcludeFromExternalLB]
	return !excluded
}

// Endpoint is one ready endpoint of a Service.
type Endpoint struct {
	IP string
	// Pod and Node are "" when the EndpointSlice does not say them.
	Pod  string
	Node string
	// Hostname is the endpoint's DNS label under a headless Service.
	Hostname string
}

// ReadyEndpoints lists a Service's ready endpoints from its EndpointSlices,
// once per address, sorted by pod name. Once per address, because an
// endpoint may stand in two slices for a while when the controller moves it
// between them.
// https://kubernetes.io/docs/concepts/services-networking/endpoint-slices/#duplicate-endpoints
func ReadyEndpoints(ctx context.Context, client kubernetes.Interface, namespace, service string) ([]Endpoint, error) {
	list, err := EndpointSlices(ctx, client, namespace, service)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []Endpoint
	for _, s := range list {
		for _, ep := range s.Endpoints {
			if !Ready(ep) || len(ep.Addresses) == 0 || seen[ep.Addresses[0]] {
				continue
			}
			seen[ep.Addresses[0]] = true
			out = append(out, endpointOf(ep))
		}
	}
	slices.SortFunc(out, func(a, b Endpoint) int { return strings.Compare(a.Pod, b.Pod) })
	return out, nil
}

// EndpointSlices lists the EndpointSlices of a Service: those with its name
// in the kubernetes.io/service-name label, which is how the EndpointSlice
// controller ties a slice to its Service.
func EndpointSlices(ctx context.Context, client kubernetes.Interface, namespace, service string) ([]discoveryv1.EndpointSlice, error) {
	list, err := client.DiscoveryV1().EndpointSlices(namespace).List(ctx, metav1.ListOptions{
		LabelSelector: labels.Set{discoveryv1.LabelServiceName: service}.String(),
	})
	if err != nil {
		return nil, fmt.Errorf("list endpointslices of %s: %w", service, err)
	}
	return list.Items, nil
}

// Ready reports whether an endpoint is ready. A missing condition counts as
// ready, as the EndpointSlice API says consumers should treat it.
func Ready(ep discoveryv1.Endpoint) bool {
	return ep.Conditions.Ready == nil || *ep.Conditions.Ready
}

func endpointOf(ep discoveryv1.Endpoint) Endpoint {
	e := Endpoint{IP: ep.Addresses[0]}
	if ep.TargetRef != nil {
		e.Pod = ep.TargetRef.Name
	}
	if ep.NodeName != nil {
		e.Node = *ep.NodeName
	}
	if ep.Hostname != nil {
		e.Hostname = *ep.Hostname
	}
	return e
}
