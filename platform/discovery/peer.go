package discovery

import (
	"context"
	"fmt"
	"strings"

	"github.com/podpaths/podpaths/platform/report"
)

// Peer says how to find one peer Service by each method.
type Peer struct {
	// Service is the Service name, e.g. "backend".
	Service string
	// Headless is the headless Service in front of the same pods, used by
	// the headless method.
	Headless string
	// PortName is the Service's port name, used for the SRV query and the
	// named service-link variable. Empty means the unnamed variable.
	PortName string
	// Port is the Service port, used with a DNS name.
	Port int
	// Namespace and Domain build the DNS names. An empty Domain means bare
	// names (docker compose), where headless discovery is unavailable.
	Namespace, Domain string
	// Static is the address for the static method, host:port.
	Static string
	// Environ is the process environment, for the env method.
	Environ map[string]string
	// Resolver answers DNS queries.
	Resolver *Resolver
}

// ParseMethods parses a comma-separated method list, e.g. "env,dns,headless".
func ParseMethods(s string) ([]report.Method, error) {
	var ms []report.Method
	for f := range strings.SplitSeq(s, ",") {
		m := report.Method(strings.TrimSpace(f))
		switch m {
		case report.MethodLocalhost, report.MethodEnv, report.MethodDNS, report.MethodHeadless, report.MethodStatic:
			ms = append(ms, m)
		default:
			return nil, fmt.Errorf("unknown discovery method %q (want localhost, env, dns, headless or static)", m)
		}
	}
	return ms, nil
}

// Find returns the targets the method finds for the peer: one for a Service
// address, one per pod for headless.
func (p Peer) Find(ctx context.Context, m report.Method) ([]Target, error) {
	switch m {
	case report.MethodEnv:
		t, err := FromEnv(p.Environ, p.Service, "")
		return []Target{t}, err
	case report.MethodDNS:
		t, err := FromDNS(ctx, p.Resolver, ServiceName(p.Service, p.Namespace, p.Domain), p.Port)
		return []Target{t}, err
	case report.MethodHeadless:
		return p.findHeadless(ctx)
	case report.MethodStatic, report.MethodLocalhost:
		if p.Static == "" {
			return []Target{{Query: "static address"}}, unconfigured("no address configured for %s", p.Service)
		}
		return []Target{{Query: p.Static, Addr: p.Static, Found: []string{p.Static}}}, nil
	default:
		return nil, fmt.Errorf("unknown discovery method %q", m)
	}
}

func (p Peer) findHeadless(ctx context.Context) ([]Target, error) {
	if p.Domain == "" {
		return []Target{{Query: p.Headless}}, unconfigured("headless per-pod DNS needs a cluster domain; " +
			"outside Kubernetes there are no per-pod names")
	}
	name := ServiceName(p.Headless, p.Namespace, p.Domain)
	if p.PortName == "" {
		// Kubernetes publishes SRV records only for named ports.
		return []Target{{Query: name}}, unconfigured("headless discovery needs the Service's port name for its SRV records")
	}
	ts, err := FromHeadless(ctx, p.Resolver, name, p.PortName)
	if err != nil {
		return []Target{{Query: "_" + p.PortName + "._tcp." + name}}, err
	}
	return ts, nil
}
