package localdns_test

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// inZone is an oracle for "is name in cluster.local", written without
// dns.IsSubDomain (which Answer uses): split into labels, honouring escapes,
// and compare the last two.
func inZone(name string) bool {
	labels := dns.SplitDomainName(name)
	n := len(labels)
	return n >= 2 && strings.EqualFold(labels[n-2], "cluster") && strings.EqualFold(labels[n-1], "local")
}

// FuzzAnswer feeds arbitrary bytes through dns.Msg.Unpack and Zone.Answer.
// The server faces whatever arrives on its socket, so Answer must never
// panic, must always answer the request's ID, must refuse every name outside
// its zone (it never forwards) and must build a reply that can be sent.
func FuzzAnswer(f *testing.F) {
	for _, q := range []struct {
		name  string
		qtype uint16
	}{
		{svcName, dns.TypeA},
		{srvName, dns.TypeSRV},
		{"nope.podpaths.svc.cluster.local", dns.TypeA},
		{"example.com", dns.TypeA},
		{"cluster.local", dns.TypeSOA},
		{`a\.cluster.local`, dns.TypeA},
		{strings.ToUpper(pod0), dns.TypeANY},
	} {
		b, err := new(dns.Msg).SetQuestion(dns.Fqdn(q.name), q.qtype).Pack()
		if err != nil {
			f.Fatalf("pack seed %s: %v", q.name, err)
		}
		f.Add(b)
	}
	none, err := (&dns.Msg{MsgHdr: dns.MsgHdr{Id: 1}}).Pack()
	if err != nil {
		f.Fatalf("pack empty seed: %v", err)
	}
	f.Add(none)
	f.Add([]byte{})
	f.Add([]byte("\x00\x01\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00"))

	z := newZone()
	f.Fuzz(func(t *testing.T, data []byte) {
		req := new(dns.Msg)
		if req.Unpack(data) != nil {
			return // not a DNS message; the dns package drops those itself
		}
		resp := z.Answer(req)
		if resp.Id != req.Id || !resp.Response {
			t.Errorf("Answer(%v): id %d qr %v, want id %d and qr set", req.Question, resp.Id, resp.Response, req.Id)
		}
		if len(req.Question) != 1 {
			if resp.Rcode != dns.RcodeFormatError {
				t.Errorf("Answer(%d questions): rcode %s, want FORMERR", len(req.Question), dns.RcodeToString[resp.Rcode])
			}
			return
		}
		name := req.Question[0].Name
		if !inZone(name) && (resp.Rcode != dns.RcodeRefused || len(resp.Answer) != 0) {
			t.Errorf("Answer(%q outside the zone): rcode %s with %d answers, want REFUSED and none",
				name, dns.RcodeToString[resp.Rcode], len(resp.Answer))
		}
		if inZone(name) && resp.Rcode == dns.RcodeRefused {
			t.Errorf("Answer(%q in the zone): REFUSED, want an answer or NXDOMAIN", name)
		}
		if _, err := resp.Pack(); err != nil {
			t.Errorf("Answer(%v) built a reply that cannot be packed: %v", req.Question, err)
		}
	})
}
