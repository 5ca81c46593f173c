package discovery

import (
	"cmp"
	"net"
	"slices"
	"strings"

	"github.com/podpaths/podpaths/platform/report"
)

// EnvPrefix is the variable-name prefix Kubernetes derives from a Service
// name: upper case, with '-' turned into '_' ("backend-sticky" ->
// "BACKEND_STICKY").
//
// See https://kubernetes.io/docs/concepts/services-networking/service/#environment-variables.
func EnvPrefix(service string) string {
	return strings.ToUpper(strings.ReplaceAll(service, "-", "_"))
}

// FromEnv finds service through the <SVC>_SERVICE_HOST and
// <SVC>_SERVICE_PORT[_<NAME>] variables in environ. The kubelet sets them only
// for Services that existed when the pod started, and not at all when the pod
// has enableServiceLinks: false. A failure is a *LookupError.
func FromEnv(environ map[string]string, service, portName string) (Target, error) {
	p := EnvPrefix(service)
	hostVar, portVar := p+"_SERVICE_HOST", p+"_SERVICE_PORT"
	if portName != "" {
		portVar += "_" + EnvPrefix(portName)
	}
	query := hostVar + ", " + portVar
	host, ok := environ[hostVar]
	if !ok || host == "" {
		return Target{}, lookupFailed(query, unconfigured("%s is not set: the pod started before the Service existed, "+
			"enableServiceLinks is false, or this is not Kubernetes", hostVar))
	}
	port, ok := environ[portVar]
	if !ok || port == "" {
		return Target{}, lookupFailed(query, unconfigured("%s is set but %s is not", hostVar, portVar))
	}
	addr := net.JoinHostPort(host, port)
	return Target{Query: query, Addr: addr, Found: []string{addr}}, nil
}

// ServiceLinks returns the service-link variables in environ, sorted by
// name: every *_SERVICE_HOST and *_SERVICE_PORT* variable, for the dashboard.
func ServiceLinks(environ map[string]string) []report.Link {
	links := make([]report.Link, 0)
	for k, v := range environ {
		if strings.HasSuffix(k, "_SERVICE_HOST") || strings.Contains(k, "_SERVICE_PORT") {
			links = append(links, report.Link{Name: k, Value: v})
		}
	}
	slices.SortFunc(links, func(a, b report.Link) int { return cmp.Compare(a.Name, b.Name) })
	return links
}
