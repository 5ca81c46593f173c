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
// address, one per pod for headless. It returns at least one target or an
// error, never both; a failed lookup is a *LookupError that says what was
// looked up (QueryOf), for the report.
func (p Peer) Find(ctx context.Context, m report.Method) ([]Target, error) {
	switch m {
	case report.MethodEnv:
		return one(FromEnv(p.Environ, p.Service, ""))
	case report.MethodDNS:
		return one(FromDNS(ctx, p.Resolver, ServiceName(p.Service, p.Namespace, p.Domain), p.Port))
	case report.MethodHeadless:
		return p.findHeadless(ctx)
	case report.MethodStatic, report.MethodLocalhost:
		if p.Static == "" {
			return nil, lookupFailed("static address", unconfigured("no address configured for %s", p.Service))
		}
		return []Target{{Query: p.Static, Addr: p.Static, Found: []string{p.Static}}}, nil
	default:
		return nil, fmt.Errorf("unknown discovery method %q", m)
	}
}

// one turns a single lookup into Find's answer.
func one(t Target, err error) ([]Target, error) {
	if err != nil {
		return nil, err
	}
	return []Target{t}, nil
}

func (p Peer) findHeadless(ctx context.Context) ([]Target, error) {
	if p.Domain == "" {
		return nil, lookupFailed(p.Headless, unconfigured("headless per-pod DNS needs a cluster domain; "+
			"outside Kubernetes there are no per-pod names"))
	}
	name := ServiceName(p.Headless, p.Namespace, p.Domain)
	if p.PortName == "" {
		// Kubernetes publishes SRV records only for named ports.
		return nil, lookupFailed(name, unconfigured("headless discovery needs the Service's port name for its SRV records"))
	}
	return FromHeadless(ctx, p.Resolver, name, p.PortName)
}
