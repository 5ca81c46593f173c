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

// The limits of every server.
const (
	// MaxHeaderBytes bounds a request's header; nginx's default buffers
	// hold 4 x 8 KiB.
	MaxHeaderBytes = 32 << 10
	// WriteTimeout bounds the time from reading a request to the end of
	// its answer.
	WriteTimeout = 2 * time.Minute
)

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
		// A client that sends huge headers or never reads its answer must
		// not hold memory or a connection for long. The slowest answer, a
		// path report with every peer hanging, takes a few peer timeouts.
		MaxHeaderBytes: MaxHeaderBytes,
		WriteTimeout:   WriteTimeout,
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
		l.server.Handler = closeWhenDraining(l.server.Handler, ready)
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

// closeWhenDraining makes every answer say "Connection: close" while the
// server is not ready (draining): a keep-alive client then closes the
// connection itself after the answer, and its next request opens a new one,
// which the Service sends to a pod that stays. Closing idle connections from
// this side instead would race with a client that is just sending.
func closeWhenDraining(h http.Handler, ready *atomic.Bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !ready.Load() {
			w.Header().Set("Connection", "close")
		}
		h.ServeHTTP(w, r)
	})
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
