package discovery_test

import (
	"context"
	"errors"
	"net"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/podpaths/podpaths/platform/discovery"
	"github.com/podpaths/podpaths/platform/localdns"
	"github.com/podpaths/podpaths/platform/report"
)

const (
	domain    = "cluster.local"
	namespace = "podpaths"
	svcName   = "backend.podpaths.svc.cluster.local"
	headless  = "backend-headless.podpaths.svc.cluster.local"
	srvName   = "_http._tcp." + headless
	pod0      = "backend-0." + headless
	pod1      = "backend-1." + headless
	pod2      = "backend-2." + headless
	clusterIP = "10.96.4.20"
	pod0IP    = "10.244.1.5"
	pod1IP    = "10.244.2.5"
	pod2IP    = "10.244.3.5"
	// lookupBudget bounds each lookup; a loopback server answers in
	// microseconds, so only a stuck test ever reaches it.
	lookupBudget = 5 * time.Second
)

// cluster is a DNS server on loopback answering like CoreDNS for a backend
// Service, its headless twin and two pods, and a resolver pointed at it.
type cluster struct {
	zone     *localdns.Zone
	resolver *discovery.Resolver
	server   string
}

func newCluster(t *testing.T) cluster {
	t.Helper()
	z := localdns.NewZone(domain)
	z.SetA(svcName, clusterIP)
	z.SetA(pod0, pod0IP)
	z.SetA(pod1, pod1IP)
	z.SetA(headless, pod0IP, pod1IP)
	// Listed out of order: discovery must sort.
	z.SetSRV(srvName, localdns.SRV{Target: pod1, Port: 8080}, localdns.SRV{Target: pod0, Port: 8080})
	z.SetCNAME(aliasName, svcName)
	z.SetCNAME(danglingName, "gone.podpaths.svc.cluster.local")
	s, err := localdns.Start("127.0.0.1:0", z)
	if err != nil {
		t.Fatalf("localdns.Start error = %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("localdns Close error = %v", err)
		}
	})
	return cluster{zone: z, resolver: discovery.NewResolver(s.Addr(), time.Second), server: s.Addr()}
}

func lookupCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), lookupBudget)
	t.Cleanup(cancel)
	return ctx
}

// wantNotFound fails unless err is a *net.DNSError saying the name does not exist.
func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	var dnsErr *net.DNSError
	if !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
		t.Errorf("%s error = %v (%T), want a *net.DNSError with IsNotFound", what, err, err)
	}
	if errors.Is(err, discovery.ErrUnconfigured) {
		t.Errorf("%s error = %v, want a lookup failure, not ErrUnconfigured", what, err)
	}
}

func TestFromDNS(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	got, err := discovery.FromDNS(lookupCtx(t), c.resolver, svcName, 8080)
	want := discovery.Target{Query: svcName, Addr: clusterIP + ":8080", Found: []string{clusterIP}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("FromDNS(%s, 8080) = %+v, %v, want %+v, nil", svcName, got, err, want)
	}
}

// The ExternalName Services of the test zone.
const (
	aliasName    = "backend-alias.podpaths.svc.cluster.local"
	danglingName = "backend-dangling.podpaths.svc.cluster.local"
)

func TestFromAlias(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	tests := []struct {
		name      string
		want      discovery.Target
		wantQuery string // of the error, when the lookup fails
	}{
		{name: aliasName, want: discovery.Target{Query: aliasName + " CNAME " + svcName + ".", Addr: clusterIP + ":8080", Found: []string{clusterIP}, Name: aliasName}},
		{name: svcName, want: discovery.Target{Query: svcName, Addr: clusterIP + ":8080", Found: []string{clusterIP}, Name: svcName}},
		// The report shows where a dangling alias points.
		{name: danglingName, wantQuery: danglingName + " CNAME gone.podpaths.svc.cluster.local."},
	}
	for _, tt := range tests {
		got, err := discovery.FromAlias(lookupCtx(t), c.resolver, tt.name, 8080)
		if tt.wantQuery != "" {
			wantNotFound(t, "FromAlias("+tt.name+")", err)
			if discovery.QueryOf(err) != tt.wantQuery {
				t.Errorf("FromAlias(%s) query %q, want %q", tt.name, discovery.QueryOf(err), tt.wantQuery)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("FromAlias(%s, 8080) = %+v, %v, want %+v, nil", tt.name, got, err, tt.want)
		}
	}
}

func TestFromDNSNotFound(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	name := "missing.podpaths.svc.cluster.local"
	got, err := discovery.FromDNS(lookupCtx(t), c.resolver, name, 8080)
	wantNotFound(t, "FromDNS("+name+")", err)
	if err != nil && !strings.Contains(err.Error(), name) {
		t.Errorf("FromDNS(%s) error = %q, want it to name the query", name, err)
	}
	if discovery.QueryOf(err) != name || got.Addr != "" {
		t.Errorf("FromDNS(%s) = %+v, %v, want the query kept in the error and no address", name, got, err)
	}
}

func TestFromHeadless(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	got, err := discovery.FromHeadless(lookupCtx(t), c.resolver, headless, "http")
	want := []discovery.Target{
		{Query: pod0, Addr: pod0IP + ":8080", Found: []string{pod0IP}, Pod: "backend-0", Name: pod0},
		{Query: pod1, Addr: pod1IP + ":8080", Found: []string{pod1IP}, Pod: "backend-1", Name: pod1},
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("FromHeadless(%s, http) = %+v, %v, want %+v, nil", headless, got, err, want)
	}
}

func TestFromHeadlessFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		setup    func(*localdns.Zone)
		portName string
		wantErr  func(error) bool
		want     string // what wantErr accepts, for the failure message
	}{
		{name: "no SRV records for the port name", portName: "grpc", wantErr: isNotFound, want: "a not-found *net.DNSError"},
		{
			name:  "only unusable SRV records",
			setup: func(z *localdns.Zone) { z.SetSRV(srvName, localdns.SRV{Target: pod0, Port: 0}) }, portName: "http",
			wantErr: func(err error) bool { return err != nil && strings.Contains(err.Error(), "no usable records") },
			want:    "an error saying no usable records",
		},
		{
			name:  "a pod named by SRV has no A record",
			setup: func(z *localdns.Zone) { z.Delete(pod1) }, portName: "http",
			wantErr: isNotFound, want: "a not-found *net.DNSError",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newCluster(t)
			if tt.setup != nil {
				tt.setup(c.zone)
			}
			got, err := discovery.FromHeadless(lookupCtx(t), c.resolver, headless, tt.portName)
			if got != nil {
				t.Errorf("FromHeadless(%s, %s) targets = %+v on error, want nil", headless, tt.portName, got)
			}
			if !tt.wantErr(err) {
				t.Errorf("FromHeadless(%s, %s) error = %v (%T), want %s", headless, tt.portName, err, err, tt.want)
			}
		})
	}
}

// TestDiscoveryFollowsZone changes the zone as Kubernetes changes DNS when
// pods come and go, and checks the next lookup sees it: nothing is cached.
func TestDiscoveryFollowsZone(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	pods := func() []string {
		t.Helper()
		ts, err := discovery.FromHeadless(lookupCtx(t), c.resolver, headless, "http")
		if err != nil {
			t.Fatalf("FromHeadless error = %v", err)
		}
		var addrs []string
		for _, tg := range ts {
			addrs = append(addrs, tg.Pod+"="+tg.Addr)
		}
		return addrs
	}
	if got, want := pods(), []string{"backend-0=" + pod0IP + ":8080", "backend-1=" + pod1IP + ":8080"}; !slices.Equal(got, want) {
		t.Fatalf("before scaling: pods = %v, want %v", got, want)
	}

	// Scale up: a third pod becomes ready, with a different port (a
	// rolling update that changed the container port).
	c.zone.SetA(pod2, pod2IP)
	c.zone.SetSRV(srvName, localdns.SRV{Target: pod0, Port: 8080}, localdns.SRV{Target: pod1, Port: 8080},
		localdns.SRV{Target: pod2, Port: 9090})
	if got, want := pods(), []string{"backend-0=" + pod0IP + ":8080", "backend-1=" + pod1IP + ":8080",
		"backend-2=" + pod2IP + ":9090"}; !slices.Equal(got, want) {
		t.Errorf("after adding backend-2: pods = %v, want %v", got, want)
	}

	// backend-0 is deleted, and its replacement gets a new IP.
	c.zone.SetSRV(srvName, localdns.SRV{Target: pod1, Port: 8080}, localdns.SRV{Target: pod2, Port: 9090})
	c.zone.Delete(pod0)
	if got, want := pods(), []string{"backend-1=" + pod1IP + ":8080", "backend-2=" + pod2IP + ":9090"}; !slices.Equal(got, want) {
		t.Errorf("after removing backend-0: pods = %v, want %v", got, want)
	}
	c.zone.SetA(pod0, "10.244.1.99")
	c.zone.SetSRV(srvName, localdns.SRV{Target: pod0, Port: 8080}, localdns.SRV{Target: pod1, Port: 8080}, localdns.SRV{Target: pod2, Port: 9090})
	if got := pods(); len(got) != 3 || got[0] != "backend-0=10.244.1.99:8080" {
		t.Errorf("after backend-0 came back with a new IP: pods = %v, want backend-0=10.244.1.99:8080 first of 3", got)
	}

	// The Service gets a new ClusterIP (deleted and recreated).
	c.zone.SetA(svcName, "10.96.200.1")
	got, err := discovery.FromDNS(lookupCtx(t), c.resolver, svcName, 8080)
	if err != nil || got.Addr != "10.96.200.1:8080" {
		t.Errorf("after the ClusterIP changed: FromDNS = %q, %v, want 10.96.200.1:8080", got.Addr, err)
	}
}

// TestResolverTimeout points a resolver at a socket that never answers: the
// lookup must give up when its context does, with a timeout error.
func TestResolverTimeout(t *testing.T) {
	t.Parallel()
	silent, err := (&net.ListenConfig{}).ListenPacket(t.Context(), "udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("ListenPacket error = %v", err)
	}
	t.Cleanup(func() { silent.Close() }) //nolint:errcheck // test cleanup
	r := discovery.NewResolver(silent.LocalAddr().String(), time.Second)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = r.LookupHost(ctx, svcName)
	if took := time.Since(start); took > lookupBudget {
		t.Errorf("LookupHost against a silent server took %v, want it bounded by the 200ms context", took)
	}
	var netErr net.Error
	if !errors.As(err, &netErr) || !netErr.Timeout() {
		t.Errorf("LookupHost against a silent server: error = %v, want a timeout", err)
	}
}

// TestResolverBoundsEachLookup gives a lookup no deadline of its own: the
// resolver's timeout alone must end it, as when no DNS server answers.
func TestResolverBoundsEachLookup(t *testing.T) {
	t.Parallel()
	silent, err := (&net.ListenConfig{}).ListenPacket(t.Context(), "udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("ListenPacket error = %v", err)
	}
	t.Cleanup(func() { silent.Close() }) //nolint:errcheck // test cleanup
	r := discovery.NewResolver(silent.LocalAddr().String(), 200*time.Millisecond)
	start := time.Now()
	_, err = r.LookupSRV(t.Context(), "http", "tcp", svcName)
	if took := time.Since(start); took > lookupBudget {
		t.Errorf("LookupSRV against a silent server took %v, want it bounded by the resolver's 200ms", took)
	}
	var netErr net.Error
	if !errors.As(err, &netErr) || !netErr.Timeout() {
		t.Errorf("LookupSRV against a silent server: error = %v, want a timeout", err)
	}
}

// TestSystemResolver covers NewResolver("") without touching the network: an
// IP literal resolves to itself.
func TestSystemResolver(t *testing.T) {
	t.Parallel()
	got, err := discovery.NewResolver("", time.Second).LookupHost(lookupCtx(t), "127.0.0.1")
	if err != nil || !slices.Equal(got, []string{"127.0.0.1"}) {
		t.Errorf("system resolver LookupHost(127.0.0.1) = %v, %v, want [127.0.0.1], nil", got, err)
	}
}

func TestPeerFind(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	base := discovery.Peer{
		Service: "backend", Headless: "backend-headless", PortName: "http", Port: 8080,
		Namespace: namespace, Domain: domain, Resolver: c.resolver,
		Environ: map[string]string{"BACKEND_SERVICE_HOST": clusterIP, "BACKEND_SERVICE_PORT": "8080"},
	}
	tests := []struct {
		name      string
		method    report.Method
		peer      func(discovery.Peer) discovery.Peer
		want      []discovery.Target
		wantErr   func(error) bool // nil means success
		wantQuery string           // the one target's query when wantErr is set
	}{
		{name: "env", method: report.MethodEnv,
			want: []discovery.Target{{Query: "BACKEND_SERVICE_HOST, BACKEND_SERVICE_PORT", Addr: clusterIP + ":8080",
				Found: []string{clusterIP + ":8080"}}}},
		{name: "env without service links", method: report.MethodEnv,
			peer:    func(p discovery.Peer) discovery.Peer { p.Environ = nil; return p },
			wantErr: isUnconfigured, wantQuery: "BACKEND_SERVICE_HOST, BACKEND_SERVICE_PORT"},
		{name: "dns", method: report.MethodDNS,
			want: []discovery.Target{{Query: svcName, Addr: clusterIP + ":8080", Found: []string{clusterIP}}}},
		{name: "dns for a Service that does not exist", method: report.MethodDNS,
			peer:    func(p discovery.Peer) discovery.Peer { p.Service = "gone"; return p },
			wantErr: isNotFound, wantQuery: "gone.podpaths.svc.cluster.local"},
		{name: "headless", method: report.MethodHeadless,
			want: []discovery.Target{
				{Query: pod0, Addr: pod0IP + ":8080", Found: []string{pod0IP}, Pod: "backend-0", Name: pod0},
				{Query: pod1, Addr: pod1IP + ":8080", Found: []string{pod1IP}, Pod: "backend-1", Name: pod1},
			}},
		{name: "headless without a cluster domain", method: report.MethodHeadless,
			peer:    func(p discovery.Peer) discovery.Peer { p.Domain = ""; return p },
			wantErr: isUnconfigured, wantQuery: "backend-headless"},
		{name: "headless Service that does not exist", method: report.MethodHeadless,
			peer:    func(p discovery.Peer) discovery.Peer { p.Headless = "gone"; return p },
			wantErr: isNotFound, wantQuery: "_http._tcp.gone.podpaths.svc.cluster.local"},
		{name: "static", method: report.MethodStatic,
			peer: func(p discovery.Peer) discovery.Peer { p.Static = "127.0.0.1:9000"; return p },
			want: []discovery.Target{{Query: "127.0.0.1:9000", Addr: "127.0.0.1:9000", Found: []string{"127.0.0.1:9000"}}}},
		{name: "localhost", method: report.MethodLocalhost,
			peer: func(p discovery.Peer) discovery.Peer { p.Static = "127.0.0.1:9000"; return p },
			want: []discovery.Target{{Query: "127.0.0.1:9000", Addr: "127.0.0.1:9000", Found: []string{"127.0.0.1:9000"}}}},
		{name: "static without an address", method: report.MethodStatic,
			wantErr: isUnconfigured, wantQuery: "static address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := base
			if tt.peer != nil {
				p = tt.peer(p)
			}
			got, err := p.Find(lookupCtx(t), tt.method)
			if tt.wantErr != nil {
				if !tt.wantErr(err) {
					t.Errorf("Find(%s) error = %v (%T), not the kind this case wants", tt.method, err, err)
				}
				if got != nil || discovery.QueryOf(err) != tt.wantQuery {
					t.Errorf("Find(%s) = %+v, %v, want no targets and an error with query %q, for the report", tt.method, got, err, tt.wantQuery)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Find(%s) = %+v, %v, want %+v, nil", tt.method, got, err, tt.want)
			}
		})
	}
}

func TestPeerFindUnknownMethod(t *testing.T) {
	t.Parallel()
	got, err := discovery.Peer{Service: "backend"}.Find(t.Context(), report.Method("carrier-pigeon"))
	if err == nil || got != nil || !strings.Contains(err.Error(), "carrier-pigeon") || errors.Is(err, discovery.ErrUnconfigured) {
		t.Errorf("Find(carrier-pigeon) = %+v, %v, want nil and an error naming the method", got, err)
	}
}

func isUnconfigured(err error) bool { return errors.Is(err, discovery.ErrUnconfigured) }

func isNotFound(err error) bool {
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr) && dnsErr.IsNotFound && !isUnconfigured(err)
}
