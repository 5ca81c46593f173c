// Package discovery finds a peer's address the ways a pod can: a fixed
// loopback address, the service-link environment variables, the Service's DNS
// name, the per-pod names of a headless Service, or an address from config.
// Each lookup says what it asked for, so the path report can show it.
package discovery

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// ErrUnconfigured means a method cannot be tried here at all, as opposed to
// being tried and failing.
var ErrUnconfigured = errors.New("unconfigured")

// unconfigured returns an error that wraps ErrUnconfigured with the reason.
func unconfigured(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnconfigured, fmt.Sprintf(format, args...))
}

// LookupError is a lookup that found nothing to call, together with what it
// looked up: a path that never got an address still shows its query.
type LookupError struct {
	// Query is what was looked up, as Target.Query would have said.
	Query string
	Err   error
}

func (e *LookupError) Error() string { return e.Err.Error() }

func (e *LookupError) Unwrap() error { return e.Err }

// lookupFailed wraps err, if any, with the query that failed.
func lookupFailed(query string, err error) error {
	return &LookupError{Query: query, Err: err}
}

// QueryOf is the query of a failed lookup, or "" when err does not say.
func QueryOf(err error) string {
	var le *LookupError
	if errors.As(err, &le) {
		return le.Query
	}
	return ""
}

// Target is one address to call, and how it was found.
type Target struct {
	// Query is what was looked up, e.g. a DNS name or variable names.
	Query string
	// Addr is host:port to dial.
	Addr string
	// Found is every address the lookup returned; Addr uses the first.
	Found []string
	// Pod names the pod the address belongs to, when discovery knows it
	// (headless per-pod names); empty for a Service's virtual IP.
	Pod string
	// Name is the DNS name the caller asked for, sent as the Host header:
	// a per-pod name (headless), or an alias's own name (ExternalName), as
	// a client that knows only that name sends it.
	Name string
}

// Resolver looks up names, either with the system's resolver or with a given
// DNS server (tests and `make run` use a DNS server on loopback).
type Resolver struct {
	r       *net.Resolver
	timeout time.Duration
}

// NewResolver returns a resolver. With server empty it is the system
// resolver; otherwise every query goes to server (host:port). timeout bounds
// each lookup, retries included: with no DNS server answering, the system
// resolver would otherwise try for attempts x timeout of resolv.conf (10 s
// by default) per name in the search list.
func NewResolver(server string, timeout time.Duration) *Resolver {
	return &Resolver{r: NetResolver(server, timeout), timeout: timeout}
}

// bound limits ctx to the resolver's timeout, if it has one.
func (r *Resolver) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if r.timeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, r.timeout)
}

// NetResolver is the *net.Resolver behind NewResolver, for a dialer that
// resolves the names it dials itself (the e2e probe's --dns-server).
func NetResolver(server string, timeout time.Duration) *net.Resolver {
	if server == "" {
		return net.DefaultResolver
	}
	d := net.Dialer{Timeout: timeout}
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, server)
		},
	}
}

// LookupHost returns the IPv4 and IPv6 addresses of name.
func (r *Resolver) LookupHost(ctx context.Context, name string) ([]string, error) {
	ctx, cancel := r.bound(ctx)
	defer cancel()
	addrs, err := r.r.LookupHost(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("lookup %s: %w", name, err)
	}
	return addrs, nil
}

// LookupCNAME returns the name that name is an alias for, after following
// every CNAME; a name that is no alias returns itself.
func (r *Resolver) LookupCNAME(ctx context.Context, name string) (string, error) {
	ctx, cancel := r.bound(ctx)
	defer cancel()
	cname, err := r.r.LookupCNAME(ctx, name)
	if err != nil {
		return "", fmt.Errorf("lookup %s: %w", name, err)
	}
	return cname, nil
}

// LookupSRV returns the SRV records of _service._proto.name.
func (r *Resolver) LookupSRV(ctx context.Context, service, proto, name string) ([]*net.SRV, error) {
	ctx, cancel := r.bound(ctx)
	defer cancel()
	_, srvs, err := r.r.LookupSRV(ctx, service, proto, name)
	if err != nil {
		return nil, fmt.Errorf("lookup SRV _%s._%s.%s: %w", service, proto, name, err)
	}
	return srvs, nil
}

// ServiceName is the DNS name of a Service: <svc>.<ns>.svc.<domain>. With no
// cluster domain (docker compose) it is the bare name, which Docker's DNS
// resolves to the container.
func ServiceName(service, namespace, domain string) string {
	if domain == "" {
		return service
	}
	if namespace == "" {
		namespace = "default"
	}
	return strings.Join([]string{service, namespace, "svc", domain}, ".")
}
