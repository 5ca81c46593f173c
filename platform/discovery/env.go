package discovery

import (
	"net"
	"strings"
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
// has enableServiceLinks: false.
func FromEnv(environ map[string]string, service, portName string) (Target, error) {
	p := EnvPrefix(service)
	hostVar, portVar := p+"_SERVICE_HOST", p+"_SERVICE_PORT"
	if portName != "" {
		portVar += "_" + EnvPrefix(portName)
	}
	t := Target{Query: hostVar + ", " + portVar}
	host, ok := environ[hostVar]
	if !ok || host == "" {
		return t, unconfigured("%s is not set: the pod started before the Service existed, "+
			"enableServiceLinks is false, or this is not Kubernetes", hostVar)
	}
	port, ok := environ[portVar]
	if !ok || port == "" {
		return t, unconfigured("%s is set but %s is not", hostVar, portVar)
	}
	t.Addr = net.JoinHostPort(host, port)
	t.Found = []string{t.Addr}
	return t, nil
}

// ServiceLinks returns the service-link variables in environ: every
// *_SERVICE_HOST and *_SERVICE_PORT* variable, for the dashboard.
func ServiceLinks(environ map[string]string) map[string]string {
	links := make(map[string]string)
	for k, v := range environ {
		if strings.HasSuffix(k, "_SERVICE_HOST") || strings.Contains(k, "_SERVICE_PORT") {
			links[k] = v
		}
	}
	return links
}
