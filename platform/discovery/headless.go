package discovery

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// FromDNS finds a Service through its DNS name, which resolves to the
// Service's ClusterIP; kube-proxy then picks a pod per connection. A failure
// is a *LookupError.
func FromDNS(ctx context.Context, r *Resolver, name string, port int) (Target, error) {
	addrs, err := r.LookupHost(ctx, name)
	if err != nil {
		return Target{}, lookupFailed(name, err)
	}
	return Target{Query: name, Found: addrs, Addr: net.JoinHostPort(addrs[0], strconv.Itoa(port))}, nil
}

// FromAlias finds a Service through an alias: an ExternalName Service's name
// is a CNAME for another name, which is then resolved as FromDNS does. The
// query names both ends (`alias CNAME target.`), so that the report shows
// where the alias pointed; a name that is no alias shows alone.
func FromAlias(ctx context.Context, r *Resolver, name string, port int) (Target, error) {
	canonical, err := r.LookupCNAME(ctx, name)
	if err != nil {
		return Target{}, lookupFailed(name, err)
	}
	query := name
	if strings.TrimSuffix(canonical, ".") != strings.TrimSuffix(name, ".") {
		query = name + " CNAME " + canonical
	}
	t, err := FromDNS(ctx, r, canonical, port)
	if err != nil {
		return Target{}, lookupFailed(query, err)
	}
	t.Query, t.Name = query, name
	return t, nil
}

// FromHeadless finds every ready pod behind a headless Service. The SRV records
// of _<portName>._tcp.<name> give each pod's own DNS name and port; each name
// is then resolved to that pod's IP. No virtual IP and no kube-proxy are
// involved: the caller picks the pod.
//
// See https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/#srv-records.
//
// It returns at least one target, or a *LookupError.
func FromHeadless(ctx context.Context, r *Resolver, name, portName string) ([]Target, error) {
	query := "_" + portName + "._tcp." + name
	srvs, err := r.LookupSRV(ctx, portName, "tcp", name)
	if err != nil {
		return nil, lookupFailed(query, err)
	}
	eps := Endpoints(srvs)
	if len(eps) == 0 {
		return nil, lookupFailed(query, fmt.Errorf("lookup SRV %s: no usable records", query))
	}
	// One lookup per pod, all at once: with many pods, one after another
	// would add up.
	targets := make([]Target, len(eps))
	errs := make([]error, len(eps))
	var wg sync.WaitGroup
	for i, ep := range eps {
		wg.Go(func() {
			t, err := FromDNS(ctx, r, ep.Name, int(ep.Port))
			t.Pod, t.Name = ep.Pod, ep.Name
			targets[i], errs[i] = t, err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, lookupFailed(query, err)
	}
	return targets, nil
}

// Endpoint is one pod named by an SRV record of a headless Service.
type Endpoint struct {
	Name string // per-pod DNS name, without the trailing dot
	Pod  string // the first label of Name: the pod's hostname
	Port uint16
}

// Endpoints turns SRV answers into endpoints, sorted by name and without
// duplicates. Records with an empty or malformed target are skipped: the
// answer comes from the network and must not be trusted to be well formed.
func Endpoints(srvs []*net.SRV) []Endpoint {
	seen := make(map[string]bool, len(srvs))
	eps := make([]Endpoint, 0, len(srvs))
	for _, s := range srvs {
		if s == nil || s.Port == 0 {
			continue
		}
		name := strings.TrimSuffix(s.Target, ".")
		pod, _, ok := strings.Cut(name, ".")
		if !ok || pod == "" || seen[name] {
			continue
		}
		seen[name] = true
		eps = append(eps, Endpoint{Name: name, Pod: pod, Port: s.Port})
	}
	sort.Slice(eps, func(i, j int) bool { return eps[i].Name < eps[j].Name })
	return eps
}
