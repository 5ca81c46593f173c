package probecmd

import (
	"context"
	"net"
	"slices"

	"github.com/podpaths/podpaths/platform/probe"
	"github.com/podpaths/podpaths/platform/report"
)

// lookupA resolves name to its IPv4 addresses, through the pod's resolver
// configuration: a short name goes through the search domains the kubelet
// wrote into /etc/resolv.conf.
func lookupA(ctx context.Context, r *net.Resolver, name string) report.ProbeLookup {
	out := report.ProbeLookup{Name: name, Type: "A"}
	ips, err := r.LookupIP(ctx, "ip4", name)
	if err != nil {
		out.ErrorKind, out.Error = probe.Classify(err), err.Error()
		return out
	}
	for _, ip := range ips {
		out.Addresses = append(out.Addresses, ip.String())
	}
	slices.Sort(out.Addresses)
	return out
}

// lookupSRV asks for the SRV records of name, which names the service and
// protocol itself (_http._tcp.backend-headless...).
func lookupSRV(ctx context.Context, r *net.Resolver, name string) report.ProbeLookup {
	out := report.ProbeLookup{Name: name, Type: "SRV"}
	_, srvs, err := r.LookupSRV(ctx, "", "", name)
	if err != nil {
		out.ErrorKind, out.Error = probe.Classify(err), err.Error()
		return out
	}
	if len(srvs) == 0 {
		out.ErrorKind, out.Error = report.ErrorDNS, "no SRV records"
		return out
	}
	for _, s := range srvs {
		out.Records = append(out.Records, report.ProbeSRV{Target: s.Target, Port: s.Port, Priority: s.Priority, Weight: s.Weight})
	}
	out.Records = sortedSRV(out.Records)
	return out
}
