package report

import "strings"

// Path ids name a path by its two ends and its method, e.g.
// "frontend-backend-env". They are built here and nowhere else, so that the
// services, the dashboard, `make check` and e2e agree on every one;
// docs/design.md lists them.

// The ids of paths that exist once per report.
const (
	// IDNginxFrontend is nginx calling the frontend in its own pod.
	IDNginxFrontend = "nginx-frontend-localhost"
	// IDNginxBackend is nginx's /my-be/ proxy to the backend Service by name.
	IDNginxBackend = "nginx-backend-dns"
	// IDSidecar is a backend calling its sidecar over the pod's loopback.
	IDSidecar = "backend-sidecar-localhost"
	// IDSticky and IDLocal are the frontend calling the backend through the
	// sessionAffinity ClientIP and the internalTrafficPolicy Local Services.
	IDSticky = "frontend-backend-sticky-dns"
	IDLocal  = "frontend-backend-local-dns"
	// IDNearby is the frontend calling the backend through the Service with
	// trafficDistribution PreferSameNode.
	IDNearby = "frontend-backend-nearby-dns"
	// IDAlias is the frontend calling the backend through an ExternalName
	// Service, an alias (CNAME) for the backend Service's name.
	IDAlias = "frontend-backend-alias-dns"
	// IDHeadless is the frontend's headless lookup when it found no pod to
	// call; each pod found gets HeadlessID instead.
	IDHeadless = "frontend-backend-headless"
	// IDSiblings stands for the backends' sibling calls when no backend
	// could be asked for them.
	IDSiblings = "backend-backend-headless"
)

// The ids of the calls `make check` and e2e make from outside the cluster.
const (
	IDOutsideLoadBalancer = "outside-loadbalancer"
	// IDOutsideClusterIP is a call from outside to the backend's ClusterIP,
	// which must fail: a ClusterIP answers only inside the cluster.
	IDOutsideClusterIP = "outside-clusterip"
	IDOutsidePaths     = "outside-frontend-paths"
	IDOutsidePeers     = "outside-nginx-backend-peers"
	IDOutsideWhoami    = "outside-nginx-backend-whoami"
	IDSpread           = "frontend-backend-spread"
)

// FrontendBackendID is the frontend calling the backend Service found by m
// (env, dns or static).
func FrontendBackendID(m Method) string { return "frontend-backend-" + string(m) }

// HeadlessID is the frontend calling one backend pod by its per-pod name.
func HeadlessID(pod string) string { return IDHeadless + "-" + pod }

// HeadlessPod is the pod a HeadlessID names; ok is false for other ids.
func HeadlessPod(id string) (pod string, ok bool) { return strings.CutPrefix(id, IDHeadless+"-") }

// SiblingID is backend pod from calling backend pod to by its per-pod name.
func SiblingID(from, to string) string { return "backend-" + from + "-backend-" + to + "-headless" }

// SiblingFrom is the calling pod of a SiblingID; ok is false for other
// ids. It relies on the StatefulSet's pod names (backend-N), which never
// contain "-backend-".
func SiblingFrom(id string) (from string, ok bool) {
	rest, ok := strings.CutPrefix(id, "backend-")
	if !ok {
		return "", false
	}
	rest, ok = strings.CutSuffix(rest, "-headless")
	if !ok {
		return "", false
	}
	from, to, ok := strings.Cut(rest, "-backend-")
	return from, ok && from != "" && to != ""
}

// SiblingsLookupID is backend pod from's headless lookup when it found no
// sibling to call.
func SiblingsLookupID(from string) string { return "backend-" + from + "-backend-headless" }

// IDOutsideExternalLB is a call from outside through the external load
// balancer in front of the nodes' NodePorts.
const IDOutsideExternalLB = "outside-external-lb"

// ExternalLBNodeID is the external load balancer sending calls to the
// NodePort on one node.
func ExternalLBNodeID(node string) string { return "external-lb-nodeport-" + node }

// OutsideNodePortID is a call from outside to the NodePort on one node, or
// on the localhost mapping ("localhost").
func OutsideNodePortID(label string) string { return "outside-nodeport-" + label }

// NodeSpreadID is the spread asked of the frontend on one node.
func NodeSpreadID(node string) string { return IDSpread + "-" + node }

// NodePathsID is the path report asked of the frontend on one node, through
// the API server's pod proxy.
func NodePathsID(node string) string { return "apiserver-frontend-paths-" + node }
