package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Shutdown configures how a service stops.
type Shutdown struct {
	// DrainDelay is how long the service keeps serving after it reports not
	// ready, so that endpoints and kube-proxy rules catch up.
	DrainDelay time.Duration
	// Timeout bounds how long in-flight requests may take to finish.
	Timeout time.Duration
}

// Listener is a bound socket with the server that will serve it.
type Listener struct {
	name   string
	ln     net.Listener
	server *http.Server
}

// Listen binds addr at once, so that a port in use fails start-up, not a
// goroutine later.
func Listen(name, addr string, h http.Handler) (*Listener, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(context.Background(), "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s on %s: %w", name, addr, err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       90 * time.Second,
	}
	return &Listener{name: name, ln: ln, server: srv}, nil
}

// Addr is the bound address, useful when addr had port 0.
func (l *Listener) Addr() string { return l.ln.Addr().String() }

// Name is the server's name in logs.
func (l *Listener) Name() string { return l.name }

// Run serves every listener until ctx is done or one fails, then drains and
// shuts all of them down. ready is set true while serving and false as soon as
// shutdown begins, so /readyz fails during the drain delay.
func Run(ctx context.Context, logger *slog.Logger, sd Shutdown, ready *atomic.Bool, listeners ...*Listener) error {
	errc := make(chan error, len(listeners))
	for _, l := range listeners {
		logger.Info("listening", "server", l.name, "addr", l.Addr())
		go func() {
			if err := l.server.Serve(l.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("serve %s: %w", l.name, err)
			}
		}()
	}
	ready.Store(true)

	var serveErr error
	select {
	case serveErr = <-errc:
		logger.Error("server failed", "err", serveErr)
	case <-ctx.Done():
		logger.Info("shutdown requested")
	}

	ready.Store(false)
	if serveErr == nil && sd.DrainDelay > 0 {
		logger.Info("draining", "delay", sd.DrainDelay.String())
		time.Sleep(sd.DrainDelay)
	}
	return errors.Join(serveErr, shutdownAll(logger, sd.Timeout, listeners))
}

func shutdownAll(logger *slog.Logger, timeout time.Duration, listeners []*Listener) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var errs []error
	for _, l := range listeners {
		if err := l.server.Shutdown(ctx); err != nil {
			logger.Warn("graceful shutdown failed, closing", "server", l.name, "err", err)
			errs = append(errs, fmt.Errorf("shutdown %s: %w", l.name, err), l.server.Close())
		}
	}
	logger.Info("stopped")
	return errors.Join(errs...)
}

// Close releases the socket of a listener that will not be served.
func (l *Listener) Close() error { return l.ln.Close() }

// Servers is what a service serves: its app handler on AppAddr and the admin
// handler (probes and metrics from reg) on AdminAddr.
type Servers struct {
	AppAddr, AdminAddr string
	App                http.Handler
	Registry           *prometheus.Registry
	// Checks are the dependencies /readyz waits for.
	Checks []Check
}

// ListenAndRun binds both servers, then runs them with Run.
func ListenAndRun(ctx context.Context, logger *slog.Logger, sd Shutdown, ready *atomic.Bool, s Servers) error {
	app, err := Listen("app", s.AppAddr, s.App)
	if err != nil {
		return err
	}
	admin, err := Listen("admin", s.AdminAddr, AdminHandler(s.Registry, ready, s.Checks...))
	if err != nil {
		return errors.Join(err, app.Close())
	}
	return Run(ctx, logger, sd, ready, app, admin)
}
