package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/podpaths/podpaths/platform/discovery"
	"github.com/podpaths/podpaths/platform/localdns"
)

// Options says where things run. Tests use another loopback range and port
// so they never collide with a `make run` in progress.
type Options struct {
	BinDir, LogDir string
	// Frontend is the frontend's app address: the dashboard.
	Frontend string
	// FrontendAdmin is the frontend's admin address.
	FrontendAdmin string
	// PodNet is the first three octets of the backend pods' loopback
	// addresses; pod i gets PodNet.(i+1).
	PodNet string
	// ServiceIP is the backend Service's virtual IP.
	ServiceIP string
	Backends  int
	Namespace string
	// Nginx is the nginx binary to put in front of the frontend: "" finds
	// one on this machine, "none" runs without.
	Nginx, NginxTemplate string
}

func defaultOptions() Options {
	return Options{
		BinDir: "_output/bin", LogDir: "_output/run",
		Frontend: "127.0.0.1:3000", FrontendAdmin: "127.0.0.1:3090",
		PodNet: "127.0.10", ServiceIP: "127.0.9.1", Backends: 3, Namespace: "podpaths",
		NginxTemplate: "nginx/default.conf.template",
	}
}

const (
	backendPort  = 8080
	domain       = "cluster.local"
	headlessName = "backend-headless"
)

// Lab is a running set of processes and the pieces that wire them.
type Lab struct {
	opts      Options
	dns       *localdns.Server
	zone      *localdns.Zone
	vip       *serviceProxy
	procs     []*process
	backends  []backendPod
	nginx     string // nginx's address, "" when it does not run
	nginxDir  string // nginx's config and state, "" when it does not run
	cancelRun context.CancelFunc
	loopDone  chan struct{}
}

type backendPod struct {
	name, ip string
}

func (b backendPod) addr() string { return net.JoinHostPort(b.ip, strconv.Itoa(backendPort)) }

// Start starts DNS, the Service proxy and every process, and waits until all
// are ready.
func Start(ctx context.Context, opts Options) (*Lab, error) {
	if err := os.MkdirAll(opts.LogDir, 0o755); err != nil {
		return nil, fmt.Errorf("log dir: %w", err)
	}
	l := &Lab{opts: opts, zone: localdns.NewZone(domain), loopDone: make(chan struct{})}
	for i := range opts.Backends {
		l.backends = append(l.backends, backendPod{name: "backend-" + strconv.Itoa(i), ip: opts.PodNet + "." + strconv.Itoa(i+1)})
	}
	var err error
	if l.dns, err = localdns.Start("127.0.0.1:0", l.zone); err != nil {
		return nil, err
	}
	vipAddr := net.JoinHostPort(opts.ServiceIP, strconv.Itoa(backendPort))
	if l.vip, err = listenServiceProxy(vipAddr); err != nil {
		return nil, errors.Join(err, l.dns.Close())
	}
	if err := l.publish(l.backends); err != nil {
		return nil, errors.Join(err, l.Stop())
	}
	if err := l.startProcesses(); err != nil {
		return nil, errors.Join(err, l.Stop())
	}
	if err := l.waitReady(ctx); err != nil {
		return nil, errors.Join(err, l.Stop())
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	l.cancelRun = cancel
	go l.endpointsLoop(runCtx)
	return l, nil
}

// publish sets DNS and the Service proxy to the ready backends, as the
// EndpointSlice controller, CoreDNS and kube-proxy together would.
func (l *Lab) publish(ready []backendPod) error {
	svc := discovery.ServiceName("backend", l.opts.Namespace, domain)
	headless := discovery.ServiceName(headlessName, l.opts.Namespace, domain)
	l.zone.SetA(svc, l.opts.ServiceIP)
	ips := make([]string, 0, len(ready))
	srvs := make([]localdns.SRV, 0, len(ready))
	addrs := make([]string, 0, len(ready))
	for _, b := range l.backends {
		l.zone.Delete(b.name + "." + headless)
	}
	for _, b := range ready {
		perPod := b.name + "." + headless
		l.zone.SetA(perPod, b.ip)
		ips = append(ips, b.ip)
		srvs = append(srvs, localdns.SRV{Target: perPod, Port: backendPort})
		addrs = append(addrs, b.addr())
	}
	l.zone.SetA(headless, ips...)
	l.zone.SetSRV("_http._tcp."+headless, srvs...)
	return l.vip.setBackends(addrs)
}

// endpointsLoop polls each backend's readiness and republishes on change.
func (l *Lab) endpointsLoop(ctx context.Context) {
	defer close(l.loopDone)
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	last := len(l.backends)
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		var ready []backendPod
		for _, b := range l.backends {
			if isReady(ctx, "http://"+net.JoinHostPort(b.ip, "9090")+"/readyz") {
				ready = append(ready, b)
			}
		}
		if len(ready) == last {
			continue
		}
		if err := l.publish(ready); err != nil {
			l.log("publish endpoints: %v", err)
			continue
		}
		last = len(ready)
	}
}

func isReady(ctx context.Context, url string) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close() //nolint:errcheck // read-only body
	return resp.StatusCode == http.StatusOK
}

// waitReady waits until every process answers its readiness probe.
func (l *Lab) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(20 * time.Second)
	for _, p := range l.procs {
		for !isReady(ctx, p.readyURL) {
			if err := p.exited(); err != nil {
				return fmt.Errorf("%s exited: %w (see %s)", p.name, err, p.logPath)
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s not ready after 20s (see %s)", p.name, p.logPath)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return nil
}

// Stop stops every process and server.
func (l *Lab) Stop() error {
	if l.cancelRun != nil {
		l.cancelRun()
		<-l.loopDone
	}
	var errs []error
	for i := len(l.procs) - 1; i >= 0; i-- {
		errs = append(errs, l.procs[i].stop())
	}
	return errors.Join(append(errs, l.vip.Close(), l.dns.Close())...)
}

// Kill stops one backend pod (backend and sidecar) abruptly, for tests.
func (l *Lab) Kill(pod string) error {
	var errs []error
	for _, p := range l.procs {
		if p.pod == pod {
			errs = append(errs, p.stop())
		}
	}
	return errors.Join(errs...)
}

// log reports a problem of the lab itself, next to the processes' logs.
func (l *Lab) log(format string, args ...any) {
	f, err := os.OpenFile(filepath.Join(l.opts.LogDir, "localrun.log"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()                                                                          //nolint:errcheck // best effort
	fmt.Fprintf(f, "%s %s\n", time.Now().Format(time.RFC3339), fmt.Sprintf(format, args...)) //nolint:errcheck,gosec // best effort
}

func (l *Lab) logFile(name string) string { return filepath.Join(l.opts.LogDir, name+".log") }
