// Package serve runs a service's HTTP servers the way Kubernetes expects: an
// app server and an admin server with liveness, readiness and metrics, request
// logging and route-pattern metrics, and a shutdown that first drains.
//
// Draining matters because endpoint removal is asynchronous: after SIGTERM,
// kube-proxy on every node may still send new connections for a few seconds.
// See https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-termination.
package serve
