package localdns_test

import (
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/podpaths/podpaths/platform/localdns"
)

const (
	svcName     = "backend.podpaths.svc.cluster.local"
	headless    = "backend-headless.podpaths.svc.cluster.local"
	srvName     = "_http._tcp." + headless
	pod0        = "backend-0." + headless
	pod1        = "backend-1." + headless
	clusterIP   = "10.96.4.20"
	pod0IP      = "10.244.1.5"
	pod1IP      = "10.244.2.5"
	queryBudget = 5 * time.Second
)

// newZone returns a zone with a Service, a headless Service and two pods, as
// CoreDNS would serve them.
func newZone() *localdns.Zone {
	z := localdns.NewZone("cluster.local")
	z.SetA(svcName, clusterIP)
	z.SetA(pod0, pod0IP)
	z.SetA(pod1, pod1IP)
	z.SetA(headless, pod0IP, pod1IP)
	z.SetSRV(srvName, localdns.SRV{Target: pod0, Port: 8080}, localdns.SRV{Target: pod1, Port: 8080})
	z.SetCNAME(aliasName, svcName)
	z.SetCNAME(danglingName, "gone.podpaths.svc.cluster.local")
	return z
}

// The ExternalName Services of the zone: one to the Service, one to a name
// that does not exist.
const (
	aliasName    = "backend-alias.podpaths.svc.cluster.local"
	danglingName = "backend-dangling.podpaths.svc.cluster.local"
)

// start serves z on a loopback port until the test ends.
func start(t *testing.T, z *localdns.Zone) *localdns.Server {
	t.Helper()
	s, err := localdns.Start("127.0.0.1:0", z)
	if err != nil {
		t.Fatalf("Start(127.0.0.1:0) error = %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close() error = %v", err)
		}
	})
	return s
}

// query asks server one question over network ("udp" or "tcp").
func query(t *testing.T, network, server, name string, qtype uint16) *dns.Msg {
	t.Helper()
	c := &dns.Client{Net: network, Timeout: queryBudget}
	req := new(dns.Msg).SetQuestion(dns.Fqdn(name), qtype)
	resp, _, err := c.Exchange(req, server)
	if err != nil {
		t.Fatalf("%s query %s %s: %v", network, dns.TypeToString[qtype], name, err)
	}
	if resp.Id != req.Id {
		t.Fatalf("%s query %s: reply id %d, want %d", network, name, resp.Id, req.Id)
	}
	return resp
}

// aRecords returns the IPs of the A records in m, sorted.
func aRecords(m *dns.Msg) []string {
	var ips []string
	for _, rr := range m.Answer {
		if a, ok := rr.(*dns.A); ok {
			ips = append(ips, a.A.String())
		}
	}
	slices.Sort(ips)
	return ips
}

// cnameOf returns the target of the CNAME record in m, or "".
func cnameOf(m *dns.Msg) string {
	for _, rr := range m.Answer {
		if c, ok := rr.(*dns.CNAME); ok {
			return c.Target
		}
	}
	return ""
}

// srvRecords returns the SRV records in m as "target:port", sorted.
func srvRecords(t *testing.T, m *dns.Msg) []string {
	t.Helper()
	var out []string
	for _, rr := range m.Answer {
		s, ok := rr.(*dns.SRV)
		if !ok {
			t.Errorf("answer %v is not SRV", rr)
			continue
		}
		if s.Priority != 0 || s.Weight != 100 {
			t.Errorf("SRV %v: priority %d weight %d, want 0 and 100 like CoreDNS", s, s.Priority, s.Weight)
		}
		out = append(out, s.Target+":"+strconv.Itoa(int(s.Port)))
	}
	slices.Sort(out)
	return out
}

func TestServerAnswers(t *testing.T) {
	t.Parallel()
	s := start(t, newZone())
	tests := []struct {
		name      string
		qname     string
		qtype     uint16
		wantRcode int
		wantA     []string
		wantSRV   []string
		wantCNAME string
	}{
		{name: "service A", qname: svcName, qtype: dns.TypeA, wantRcode: dns.RcodeSuccess, wantA: []string{clusterIP}},
		{name: "headless A lists every pod", qname: headless, qtype: dns.TypeA, wantRcode: dns.RcodeSuccess, wantA: []string{pod0IP, pod1IP}},
		{name: "per-pod A", qname: pod1, qtype: dns.TypeA, wantRcode: dns.RcodeSuccess, wantA: []string{pod1IP}},
		{name: "names are case-insensitive", qname: strings.ToUpper(svcName), qtype: dns.TypeA, wantRcode: dns.RcodeSuccess, wantA: []string{clusterIP}},
		{name: "SRV", qname: srvName, qtype: dns.TypeSRV, wantRcode: dns.RcodeSuccess,
			wantSRV: []string{pod0 + ".:8080", pod1 + ".:8080"}},
		{name: "AAAA of a known name is empty", qname: svcName, qtype: dns.TypeAAAA, wantRcode: dns.RcodeSuccess},
		{name: "SRV of an A-only name is empty", qname: svcName, qtype: dns.TypeSRV, wantRcode: dns.RcodeSuccess},
		{name: "alias A: the CNAME, then the target's A", qname: aliasName, qtype: dns.TypeA, wantRcode: dns.RcodeSuccess,
			wantA: []string{clusterIP}, wantCNAME: svcName + "."},
		{name: "alias CNAME alone", qname: aliasName, qtype: dns.TypeCNAME, wantRcode: dns.RcodeSuccess, wantCNAME: svcName + "."},
		{name: "alias to a missing name: the CNAME and NXDOMAIN", qname: danglingName, qtype: dns.TypeA, wantRcode: dns.RcodeNameError,
			wantCNAME: "gone.podpaths.svc.cluster.local."},
		{name: "unknown name in zone", qname: "nope.podpaths.svc.cluster.local", qtype: dns.TypeA, wantRcode: dns.RcodeNameError},
		{name: "zone apex", qname: "cluster.local", qtype: dns.TypeA, wantRcode: dns.RcodeNameError},
		{name: "outside the zone", qname: "example.com", qtype: dns.TypeA, wantRcode: dns.RcodeRefused},
		{name: "suffix that is not a label boundary", qname: "backend.notcluster.local", qtype: dns.TypeA, wantRcode: dns.RcodeRefused},
	}
	for _, network := range []string{"udp", "tcp"} {
		for _, tt := range tests {
			t.Run(network+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				resp := query(t, network, s.Addr(), tt.qname, tt.qtype)
				q := dns.TypeToString[tt.qtype] + " " + tt.qname
				if resp.Rcode != tt.wantRcode {
					t.Errorf("%s %s: rcode %s, want %s", network, q, dns.RcodeToString[resp.Rcode], dns.RcodeToString[tt.wantRcode])
				}
				if !resp.Authoritative || !resp.Response {
					t.Errorf("%s %s: aa=%v qr=%v, want both set", network, q, resp.Authoritative, resp.Response)
				}
				if resp.RecursionAvailable {
					t.Errorf("%s %s: ra set, want unset: the server never recurses", network, q)
				}
				if got := aRecords(resp); !slices.Equal(got, tt.wantA) {
					t.Errorf("%s %s: A = %v, want %v", network, q, got, tt.wantA)
				}
				if tt.qtype == dns.TypeSRV {
					if got := srvRecords(t, resp); !slices.Equal(got, tt.wantSRV) {
						t.Errorf("%s %s: SRV = %v, want %v", network, q, got, tt.wantSRV)
					}
				}
				if got := cnameOf(resp); got != tt.wantCNAME {
					t.Errorf("%s %s: CNAME %q, want %q", network, q, got, tt.wantCNAME)
				}
				if tt.wantA == nil && tt.wantSRV == nil && tt.wantCNAME == "" && len(resp.Answer) != 0 {
					t.Errorf("%s %s: answers %v, want none", network, q, resp.Answer)
				}
				if len(resp.Question) != 1 || resp.Question[0].Name != dns.Fqdn(tt.qname) {
					t.Errorf("%s %s: question section %v, want the query echoed", network, q, resp.Question)
				}
			})
		}
	}
}

func TestZoneChangesWhileServing(t *testing.T) {
	t.Parallel()
	z := newZone()
	s := start(t, z)
	steps := []struct {
		name      string
		change    func()
		wantRcode int
		wantA     []string
	}{
		{name: "initial", change: func() {}, wantRcode: dns.RcodeSuccess, wantA: []string{clusterIP}},
		{name: "ClusterIP changes", change: func() { z.SetA(svcName, "10.96.9.9") }, wantRcode: dns.RcodeSuccess, wantA: []string{"10.96.9.9"}},
		{name: "Service deleted", change: func() { z.Delete(svcName) }, wantRcode: dns.RcodeNameError},
		{name: "Service recreated", change: func() { z.SetA(svcName, clusterIP) }, wantRcode: dns.RcodeSuccess, wantA: []string{clusterIP}},
	}
	// Steps depend on each other, so they run in order, not in parallel.
	for _, st := range steps {
		st.change()
		resp := query(t, "udp", s.Addr(), svcName, dns.TypeA)
		if resp.Rcode != st.wantRcode || !slices.Equal(aRecords(resp), st.wantA) {
			t.Errorf("after %s: A %s = %s %v, want %s %v", st.name, svcName,
				dns.RcodeToString[resp.Rcode], aRecords(resp), dns.RcodeToString[st.wantRcode], st.wantA)
		}
	}

	z.SetSRV(srvName, localdns.SRV{Target: pod1, Port: 8080})
	if got, want := srvRecords(t, query(t, "tcp", s.Addr(), srvName, dns.TypeSRV)), []string{pod1 + ".:8080"}; !slices.Equal(got, want) {
		t.Errorf("after removing backend-0 from SRV: %v, want %v", got, want)
	}
	z.Delete(srvName)
	if resp := query(t, "tcp", s.Addr(), srvName, dns.TypeSRV); resp.Rcode != dns.RcodeNameError {
		t.Errorf("after Delete(%s): rcode %s, want NXDOMAIN", srvName, dns.RcodeToString[resp.Rcode])
	}
}

// TestZoneConcurrentUse runs queries while the zone changes; with -race it
// checks that Zone is safe for concurrent use, as its doc promises.
func TestZoneConcurrentUse(t *testing.T) {
	t.Parallel()
	z := newZone()
	s := start(t, z)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 20 {
				if (i+j)%2 == 0 {
					z.SetA(pod0, pod0IP)
					z.SetSRV(srvName, localdns.SRV{Target: pod0, Port: 8080})
				} else {
					z.Delete(pod0)
				}
				resp := query(t, "udp", s.Addr(), pod0, dns.TypeA)
				if resp.Rcode != dns.RcodeSuccess && resp.Rcode != dns.RcodeNameError {
					t.Errorf("A %s while changing: rcode %s, want NOERROR or NXDOMAIN", pod0, dns.RcodeToString[resp.Rcode])
				}
			}
		})
	}
	wg.Wait()
}

func TestSetAKeepsOnlyIPv4(t *testing.T) {
	t.Parallel()
	z := localdns.NewZone("cluster.local")
	z.SetA(svcName, "fd00::1", "not-an-ip", "10.96.0.1", "")
	got := aRecords(z.Answer(new(dns.Msg).SetQuestion(dns.Fqdn(svcName), dns.TypeA)))
	if want := []string{"10.96.0.1"}; !slices.Equal(got, want) {
		t.Errorf("SetA(fd00::1, not-an-ip, 10.96.0.1, \"\") then A = %v, want %v", got, want)
	}
}

func TestAnswerFormatError(t *testing.T) {
	t.Parallel()
	z := newZone()
	two := new(dns.Msg).SetQuestion(dns.Fqdn(svcName), dns.TypeA)
	two.Question = append(two.Question, dns.Question{Name: dns.Fqdn(pod0), Qtype: dns.TypeA, Qclass: dns.ClassINET})
	tests := []struct {
		name string
		req  *dns.Msg
	}{
		{name: "no question", req: &dns.Msg{MsgHdr: dns.MsgHdr{Id: 7}}},
		{name: "two questions", req: two},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp := z.Answer(tt.req)
			if resp.Rcode != dns.RcodeFormatError || resp.Id != tt.req.Id || len(resp.Answer) != 0 {
				t.Errorf("Answer(%d questions) = rcode %s id %d answers %d, want FORMERR id %d no answers",
					len(tt.req.Question), dns.RcodeToString[resp.Rcode], resp.Id, len(resp.Answer), tt.req.Id)
			}
		})
	}
}

func TestStartAddressInUse(t *testing.T) {
	t.Parallel()
	pc, err := (&net.ListenConfig{}).ListenPacket(t.Context(), "udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("ListenPacket error = %v", err)
	}
	t.Cleanup(func() { pc.Close() }) //nolint:errcheck // test cleanup
	s, err := localdns.Start(pc.LocalAddr().String(), localdns.NewZone("cluster.local"))
	if err == nil {
		s.Close() //nolint:errcheck // test cleanup
		t.Fatalf("Start(%s) with the UDP port in use: error = nil, want an error", pc.LocalAddr())
	}
	if !strings.Contains(err.Error(), "listen udp") {
		t.Errorf("Start(%s) error = %q, want it to say listen udp", pc.LocalAddr(), err)
	}
}

func TestStartTCPPortInUse(t *testing.T) {
	t.Parallel()
	// Take a TCP port, then ask for UDP on the same number: Start must fail
	// and release the UDP socket it already bound.
	ln, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("Listen error = %v", err)
	}
	t.Cleanup(func() { ln.Close() }) //nolint:errcheck // test cleanup
	addr := ln.Addr().String()
	s, err := localdns.Start(addr, localdns.NewZone("cluster.local"))
	if err == nil {
		s.Close() //nolint:errcheck // test cleanup
		t.Fatalf("Start(%s) with the TCP port in use: error = nil, want an error", addr)
	}
	if !strings.Contains(err.Error(), "listen tcp") {
		t.Errorf("Start(%s) error = %q, want it to say listen tcp", addr, err)
	}
	pc, err := (&net.ListenConfig{}).ListenPacket(t.Context(), "udp", addr)
	if err != nil {
		t.Errorf("after Start failed, UDP %s is still bound: %v", addr, err)
		return
	}
	pc.Close() //nolint:errcheck // probe socket
}

func TestStartBadAddress(t *testing.T) {
	t.Parallel()
	s, err := localdns.Start("127.0.0.1", localdns.NewZone("cluster.local"))
	if err == nil {
		s.Close() //nolint:errcheck // test cleanup
		t.Fatalf("Start(127.0.0.1) without a port: error = nil, want an error")
	}
	if !strings.Contains(err.Error(), `"127.0.0.1"`) {
		t.Errorf("Start(127.0.0.1) error = %q, want it to quote the address", err)
	}
}

func TestClose(t *testing.T) {
	t.Parallel()
	s, err := localdns.Start("127.0.0.1:0", newZone())
	if err != nil {
		t.Fatalf("Start error = %v", err)
	}
	if !strings.HasPrefix(s.Addr(), "127.0.0.1:") {
		t.Errorf("Addr() = %q, want a loopback address", s.Addr())
	}
	query(t, "tcp", s.Addr(), svcName, dns.TypeA)
	if err := s.Close(); err != nil {
		t.Fatalf("Close() error = %v", err)
	}
	c := &dns.Client{Net: "tcp", Timeout: queryBudget}
	if _, _, err := c.Exchange(new(dns.Msg).SetQuestion(dns.Fqdn(svcName), dns.TypeA), s.Addr()); err == nil {
		t.Errorf("TCP query after Close: error = nil, want the server gone")
	}
}
