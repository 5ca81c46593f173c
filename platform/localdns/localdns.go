// Package localdns is a small authoritative DNS server for loopback. It
// answers A, SRV and CNAME queries from a fixed zone the way CoreDNS answers for a
// cluster, so that env, dns and headless discovery can run without a cluster
// (in tests and `make run`). It never forwards: a name outside the zone gets
// REFUSED and nothing leaves the machine.
package localdns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// SRV is one SRV record: a target name and port.
type SRV struct {
	Target string
	Port   uint16
}

// Zone is the data the server answers from. Names are fully qualified,
// without the trailing dot. A Zone is safe for concurrent use, so a test can
// change it while the server runs, as Kubernetes changes DNS when pods come
// and go.
type Zone struct {
	mu     sync.RWMutex
	suffix string
	a      map[string][]net.IP
	srv    map[string][]SRV
	cname  map[string]string
}

// NewZone returns an empty zone authoritative for names ending in suffix
// (e.g. "cluster.local").
func NewZone(suffix string) *Zone {
	return &Zone{suffix: dns.Fqdn(suffix), a: map[string][]net.IP{}, srv: map[string][]SRV{}, cname: map[string]string{}}
}

// SetA replaces the A records of name.
func (z *Zone) SetA(name string, ips ...string) {
	parsed := make([]net.IP, 0, len(ips))
	for _, ip := range ips {
		if p := net.ParseIP(ip).To4(); p != nil {
			parsed = append(parsed, p)
		}
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	z.a[key(name)] = parsed
}

// SetSRV replaces the SRV records of name (e.g. "_http._tcp.svc.ns.svc.cluster.local").
func (z *Zone) SetSRV(name string, records ...SRV) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.srv[key(name)] = records
}

// SetCNAME makes name an alias for target, as CoreDNS answers for an
// ExternalName Service.
func (z *Zone) SetCNAME(name, target string) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.cname[key(name)] = key(target)
}

// Delete removes every record of name.
func (z *Zone) Delete(name string) {
	z.mu.Lock()
	defer z.mu.Unlock()
	delete(z.a, key(name))
	delete(z.srv, key(name))
	delete(z.cname, key(name))
}

// key is how a name is stored: DNS names are case-insensitive.
func key(name string) string { return strings.ToLower(dns.Fqdn(name)) }

// ServeDNS answers one query from the zone. A UDP answer too large for the
// client's buffer is truncated, which tells the client to ask again over TCP:
// a headless Service with many pods needs that.
func (z *Zone) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	m := z.Answer(req)
	if _, udp := w.RemoteAddr().(*net.UDPAddr); udp {
		size := dns.MinMsgSize
		if opt := req.IsEdns0(); opt != nil {
			size = int(opt.UDPSize())
		}
		m.Truncate(size)
	}
	// A failed write means the client went away; there is no one to tell.
	_ = w.WriteMsg(m) //nolint:errcheck // see above
}

// Answer builds the reply to req. It is separate from ServeDNS so that it can
// be fuzzed without a network.
func (z *Zone) Answer(req *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	if len(req.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		return m
	}
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	if !dns.IsSubDomain(z.suffix, name) {
		m.Rcode = dns.RcodeRefused
		return m
	}
	z.mu.RLock()
	defer z.mu.RUnlock()
	if target, ok := z.cname[name]; ok {
		// As CoreDNS does: the CNAME, then the target's own answer in the
		// same reply when the zone has it.
		m.Answer = append(m.Answer, &dns.CNAME{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: 5}, Target: target})
		if q.Qtype == dns.TypeCNAME {
			return m
		}
		name, q.Name = target, target
	}
	ips, hasA := z.a[name]
	srvs, hasSRV := z.srv[name]
	if !hasA && !hasSRV {
		m.Rcode = dns.RcodeNameError
		return m
	}
	hdr := dns.RR_Header{Name: q.Name, Class: dns.ClassINET, Ttl: 5}
	switch q.Qtype {
	case dns.TypeA:
		hdr.Rrtype = dns.TypeA
		for _, ip := range ips {
			m.Answer = append(m.Answer, &dns.A{Hdr: hdr, A: ip})
		}
	case dns.TypeSRV:
		hdr.Rrtype = dns.TypeSRV
		for _, s := range srvs {
			// CoreDNS gives each pod an equal weight.
			m.Answer = append(m.Answer, &dns.SRV{Hdr: hdr, Priority: 0, Weight: 100, Port: s.Port, Target: dns.Fqdn(s.Target)})
		}
	}
	return m
}

// Server serves a zone over UDP and TCP on one address.
type Server struct {
	udp, tcp *dns.Server
	addr     string
}

// Start serves z on addr (e.g. "127.0.0.1:0"); UDP and TCP share the port.
// With port 0 the UDP port is picked first, and another socket may already
// hold that TCP port, so a few picks are tried.
func Start(addr string, z *Zone) (*Server, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("dns server address %q: %w", addr, err)
	}
	tries := 1
	if port == "0" {
		tries = 10
	}
	var pc net.PacketConn
	var ln net.Listener
	for range tries {
		if pc, ln, err = listenBoth(addr); err == nil {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	s := &Server{
		udp:  &dns.Server{PacketConn: pc, Handler: z},
		tcp:  &dns.Server{Listener: ln, Handler: z},
		addr: pc.LocalAddr().String(),
	}
	started := make(chan struct{}, 2)
	s.udp.NotifyStartedFunc = func() { started <- struct{}{} }
	s.tcp.NotifyStartedFunc = func() { started <- struct{}{} }
	go s.udp.ActivateAndServe() //nolint:errcheck // returns only on Shutdown
	go s.tcp.ActivateAndServe() //nolint:errcheck // returns only on Shutdown
	<-started
	<-started
	return s, nil
}

func listenBoth(addr string) (net.PacketConn, net.Listener, error) {
	var lc net.ListenConfig
	pc, err := lc.ListenPacket(context.Background(), "udp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("listen udp %s: %w", addr, err)
	}
	ln, err := lc.Listen(context.Background(), "tcp", pc.LocalAddr().String())
	if err != nil {
		return nil, nil, errors.Join(fmt.Errorf("listen tcp %s: %w", pc.LocalAddr(), err), pc.Close())
	}
	return pc, ln, nil
}

// Addr is the address the server answers on.
func (s *Server) Addr() string { return s.addr }

// Close stops the server.
func (s *Server) Close() error {
	return errors.Join(s.udp.Shutdown(), s.tcp.Shutdown())
}
