package discovery_test

import (
	"encoding/binary"
	"net"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/podpaths/podpaths/platform/discovery"
)

// FuzzEnvPrefix checks the properties of the Service-name-to-variable rule
// on any input: the result is upper case and has no '-' (neither may appear
// in an environment variable Kubernetes writes), ASCII keeps its length byte
// for byte, and the rule is idempotent.
func FuzzEnvPrefix(f *testing.F) {
	for _, s := range []string{"backend", "backend-sticky", "", "-", "--a--", "A_b-C", "redis2", "ünïcode-ß", "ǅ", "\xff-x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, service string) {
		got := discovery.EnvPrefix(service)
		if strings.ContainsRune(got, '-') {
			t.Errorf("EnvPrefix(%q) = %q, contains '-'", service, got)
		}
		if strings.ToUpper(got) != got {
			t.Errorf("EnvPrefix(%q) = %q, not upper case", service, got)
		}
		if again := discovery.EnvPrefix(got); again != got {
			t.Errorf("EnvPrefix(EnvPrefix(%q)) = %q, want %q", service, again, got)
		}
		if !isASCII(service) {
			return
		}
		if len(got) != len(service) {
			t.Fatalf("EnvPrefix(%q) = %q: length %d, want %d", service, got, len(got), len(service))
		}
		for i := range len(service) {
			if want := asciiRule(service[i]); got[i] != want {
				t.Errorf("EnvPrefix(%q)[%d] = %q, want %q", service, i, got[i], want)
			}
		}
	})
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// asciiRule is the rule for one ASCII byte, written out independently.
func asciiRule(c byte) byte {
	switch {
	case c == '-':
		return '_'
	case 'a' <= c && c <= 'z':
		return c - 'a' + 'A'
	default:
		return c
	}
}

// FuzzEndpoints builds SRV answers from fuzz input: targets separated by
// '|' ("nil" for a nil record) and ports as big-endian pairs of bytes. SRV
// answers come from the network; whatever they hold, Endpoints must not
// panic, and must return sorted, unique, dialable endpoints for exactly the
// well-formed targets.
func FuzzEndpoints(f *testing.F) {
	f.Add(pod1+".|"+pod0+".", []byte{0x1f, 0x90, 0x1f, 0x90})
	f.Add(pod0+"|"+pod0+".|nil", []byte{0x1f, 0x90, 0x00, 0x50, 0x00, 0x01})
	f.Add("|.|..|a.|.b|a..b", []byte{0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6})
	f.Add("x.y", []byte{0, 0})
	f.Add("", []byte(nil))
	f.Fuzz(func(t *testing.T, targets string, ports []byte) {
		var srvs []*net.SRV
		for i, target := range strings.Split(targets, "|") {
			if target == "nil" {
				srvs = append(srvs, nil)
				continue
			}
			var port uint16
			if 2*i+1 < len(ports) {
				port = binary.BigEndian.Uint16(ports[2*i:])
			}
			srvs = append(srvs, &net.SRV{Target: target, Port: port})
		}

		got := discovery.Endpoints(srvs)

		wellFormed := make(map[string]bool)
		for _, s := range srvs {
			if s == nil || s.Port == 0 {
				continue
			}
			name := strings.TrimSuffix(s.Target, ".")
			if pod, _, ok := strings.Cut(name, "."); ok && pod != "" {
				wellFormed[name] = true
			}
		}
		if len(got) != len(wellFormed) {
			t.Errorf("Endpoints(%s) returned %d endpoints, want %d (one per distinct well-formed target)", describeSRV(srvs), len(got), len(wellFormed))
		}
		for i, ep := range got {
			if i > 0 && got[i-1].Name >= ep.Name {
				t.Errorf("Endpoints(%s): %q then %q, want strictly ascending names", describeSRV(srvs), got[i-1].Name, ep.Name)
			}
			if ep.Pod == "" || !strings.HasPrefix(ep.Name, ep.Pod+".") {
				t.Errorf("Endpoints(%s): endpoint %+v, want Pod to be the non-empty first label of Name", describeSRV(srvs), ep)
			}
			if ep.Port == 0 {
				t.Errorf("Endpoints(%s): endpoint %+v has port 0", describeSRV(srvs), ep)
			}
			if !wellFormed[ep.Name] {
				t.Errorf("Endpoints(%s): endpoint %+v comes from no well-formed input target", describeSRV(srvs), ep)
			}
		}
	})
}
