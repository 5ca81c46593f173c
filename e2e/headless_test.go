//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/podpaths/podpaths/e2e/internal/cluster"
	"github.com/podpaths/podpaths/platform/report"
)

// dnsTimeout bounds how long DNS may lag behind the API: CoreDNS answers
// from its watch of EndpointSlices, and its cache may keep an answer for up
// to 30 s (the default `cache 30`).
const dnsTimeout = time.Minute

// headlessView is what DNS says about the headless Service, next to what the
// API says.
type headlessView struct {
	a, srv, want, wantSRV []string
}

func (v headlessView) String() string {
	return fmt.Sprintf("A %v and SRV %v; the EndpointSlices say A %v and SRV %v", v.a, v.srv, v.want, v.wantSRV)
}

func (v headlessView) aMatches() bool   { return slices.Equal(v.a, v.want) }
func (v headlessView) srvMatches() bool { return slices.Equal(v.srv, v.wantSRV) }

// headless looks up the headless Service's A and SRV records from the probe
// pod, and the ready endpoints that they should equal.
func (r *run) headless(ctx context.Context) (headlessView, error) {
	var v headlessView
	eps, err := r.env.ReadyEndpoints(ctx, "backend-headless")
	if err != nil {
		return v, err
	}
	for _, e := range eps {
		v.want = append(v.want, e.IP)
		host := e.Hostname
		if host == "" {
			host = e.Pod
		}
		v.wantSRV = append(v.wantSRV, fmt.Sprintf("%s.%s.:%d", host, r.fqdn("backend-headless"), backendPort))
	}
	a, err := r.probe.Lookup(ctx, r.fqdn("backend-headless"))
	if err != nil {
		return v, err
	}
	v.a = a.Addresses
	s, err := r.probe.SRV(ctx, "_http._tcp."+r.fqdn("backend-headless"))
	if err != nil {
		return v, err
	}
	for _, rec := range s.Records {
		v.srv = append(v.srv, fmt.Sprintf("%s:%d", rec.Target, rec.Port))
	}
	slices.Sort(v.want)
	slices.Sort(v.wantSRV)
	slices.Sort(v.srv)
	return v, nil
}

// awaitHeadless waits until DNS agrees with the API on the headless
// Service, and returns the last view either way.
func (r *run) awaitHeadless(ctx context.Context, match func(headlessView) bool) (headlessView, error) {
	var v headlessView
	err := cluster.Eventually(ctx, dnsTimeout, time.Second, func(ctx context.Context) (string, bool) {
		var err error
		v, err = r.headless(ctx)
		if err != nil {
			return err.Error(), false
		}
		return v.String(), match(v) && len(v.want) > 0
	})
	return v, err
}

// TestHeadless proves the headless Service: no virtual IP, DNS answers with
// the ready pods themselves (A), names each one (SRV _http._tcp), and each
// per-pod name reaches exactly that pod.
func TestHeadless(t *testing.T) {
	r := begin(t, 3*time.Minute)
	t.Run("a-records-are-the-ready-pods", func(t *testing.T) {
		if v, err := r.awaitHeadless(r.ctx, headlessView.aMatches); err != nil {
			t.Errorf("DNS of %s: %s: %v", r.fqdn("backend-headless"), v, err)
		}
	})
	t.Run("srv-records-name-every-pod", func(t *testing.T) {
		if v, err := r.awaitHeadless(r.ctx, headlessView.srvMatches); err != nil {
			t.Errorf("DNS of _http._tcp.%s: %s: %v", r.fqdn("backend-headless"), v, err)
		}
	})
	t.Run("per-pod-names", func(t *testing.T) {
		for _, e := range r.readyEndpoints(t, "backend-headless") {
			t.Run(e.Pod, func(t *testing.T) {
				name := r.fqdn(e.Pod + ".backend-headless")
				u := serviceURL(name, backendPort, "/whoami")
				c := probeGet(t, r.ctx, r.probe, u).Calls[0]
				switch {
				case !c.OK || c.AnsweredBy == nil:
					t.Errorf("GET %s from pod %s: %s", u, r.probe.Pod.Name, describeCall(c))
				case c.AnsweredBy.Pod != e.Pod || c.AnsweredBy.PodIP != e.IP:
					t.Errorf("GET %s answered by %s (%s), want exactly %s (%s): a per-pod name bypasses load balancing",
						u, c.AnsweredBy.Pod, c.AnsweredBy.PodIP, e.Pod, e.IP)
				}
			})
		}
	})
}

// TestHeadlessFollowsScaling scales the backend to 5 replicas and back to 3:
// the A and SRV records follow the ready pods, and so does the frontend's
// headless discovery, with no restart of anything.
func TestHeadlessFollowsScaling(t *testing.T) {
	r := begin(t, 6*time.Minute)
	for _, n := range []int32{5, 3} {
		t.Run(fmt.Sprintf("scale-to-%d", n), func(t *testing.T) {
			r.scale(t, cluster.Backend, n)
			t.Run("a-records", func(t *testing.T) {
				v, err := r.awaitHeadless(r.ctx, headlessView.aMatches)
				if err != nil || len(v.a) != int(n) {
					t.Errorf("after scaling to %d: %s (%v); want %d pod IPs", n, v, err, n)
				}
			})
			t.Run("srv-records", func(t *testing.T) {
				v, err := r.awaitHeadless(r.ctx, headlessView.srvMatches)
				if err != nil || len(v.srv) != int(n) {
					t.Errorf("after scaling to %d: %s (%v); want %d SRV records", n, v, err, n)
				}
			})
			t.Run("frontend-discovery", func(t *testing.T) {
				want := podNames(r.pods(t, cluster.Backend))
				var got []string
				err := cluster.Eventually(r.ctx, dnsTimeout, time.Second, func(context.Context) (string, bool) {
					got = headlessPods(t, r)
					return fmt.Sprintf("frontend called %v by headless names", got), slices.Equal(got, want)
				})
				if err != nil {
					t.Errorf("after scaling to %d the frontend's headless paths reach %v, want every pod %v: %v", n, got, want, err)
				}
			})
		})
	}
}

// headlessPods lists the pods the frontend reached by their headless names.
func headlessPods(t *testing.T, r *run) []string {
	t.Helper()
	var pods []string
	for _, p := range r.pathReport(t).Paths {
		if pod, ok := report.HeadlessPod(p.ID); ok && p.OK {
			pods = append(pods, pod)
		}
	}
	slices.Sort(pods)
	return pods
}

// awaitPerPodNames waits until each backend's per-pod name resolves to its
// address. A pod that became ready moments ago (a rolling restart in an
// earlier test) may still have its name cached as missing by CoreDNS, which
// keeps a negative answer for its TTL; a client sees the name after that.
func (r *run) awaitPerPodNames(t *testing.T, p *cluster.Probe, backends []cluster.Endpoint) {
	t.Helper()
	for _, b := range backends {
		name := b.Pod + "." + r.fqdn("backend-headless")
		err := cluster.Eventually(r.ctx, dnsTimeout, time.Second, func(ctx context.Context) (string, bool) {
			l, err := p.Lookup(ctx, name)
			if err != nil {
				return err.Error(), false
			}
			return fmt.Sprintf("%s: %v %s", name, l.Addresses, l.Error), slices.Contains(l.Addresses, b.IP)
		})
		if err != nil {
			t.Fatalf("the per-pod name of %s never resolved to %s: %v", b.Pod, b.IP, err)
		}
	}
}
