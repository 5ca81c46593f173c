package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"time"
)

// serviceProxy plays kube-proxy for one Service virtual IP: it picks a
// backend at random for each new connection and then only copies bytes. Like
// kube-proxy it balances connections, not requests. A Service without
// endpoints refuses connections (kube-proxy installs a REJECT rule), so the
// proxy stops listening while it has no backends.
type serviceProxy struct {
	addr string
	mu   sync.Mutex
	ln   net.Listener // nil while there are no backends
	// backends are the ready endpoints' addresses.
	backends []string
	wg       sync.WaitGroup
}

func listenServiceProxy(addr string) (*serviceProxy, error) {
	p := &serviceProxy{addr: addr}
	if err := p.listen(); err != nil {
		return nil, err
	}
	return p, nil
}

// listen starts accepting; the caller holds mu or is the constructor.
func (p *serviceProxy) listen() error {
	var lc net.ListenConfig
	ln, err := lc.Listen(context.Background(), "tcp", p.addr)
	if err != nil {
		return fmt.Errorf("service IP %s: %w", p.addr, err)
	}
	p.ln = ln
	p.wg.Go(func() { p.accept(ln) })
	return nil
}

// setBackends replaces the endpoints, and stops or starts listening when the
// Service loses its last endpoint or gets its first.
func (p *serviceProxy) setBackends(addrs []string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.backends = addrs
	switch {
	case len(addrs) == 0 && p.ln != nil:
		err := p.ln.Close()
		p.ln = nil
		return err
	case len(addrs) > 0 && p.ln == nil:
		return p.listen()
	}
	return nil
}

func (p *serviceProxy) pick() (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.backends) == 0 {
		return "", false
	}
	return p.backends[rand.IntN(len(p.backends))], true //nolint:gosec // load balancing, not security
}

func (p *serviceProxy) accept(ln net.Listener) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return // closed
		}
		p.wg.Go(func() { p.forward(conn) })
	}
}

func (p *serviceProxy) forward(client net.Conn) {
	defer client.Close() //nolint:errcheck // best effort
	addr, ok := p.pick()
	if !ok {
		return
	}
	d := net.Dialer{Timeout: 2 * time.Second}
	upstream, err := d.DialContext(context.Background(), "tcp", addr)
	if err != nil {
		return
	}
	defer upstream.Close() //nolint:errcheck // best effort
	done := make(chan struct{})
	go func() {
		io.Copy(upstream, client)            //nolint:errcheck,gosec // ends when either side closes
		upstream.(*net.TCPConn).CloseWrite() //nolint:errcheck,gosec,forcetypeassert // best effort half-close
		close(done)
	}()
	io.Copy(client, upstream) //nolint:errcheck,gosec // ends when either side closes
	client.Close()            //nolint:errcheck,gosec // unblock the other copy
	<-done
}

// Close stops accepting and waits for open connections to end.
func (p *serviceProxy) Close() error {
	p.mu.Lock()
	var err error
	if p.ln != nil {
		err = p.ln.Close()
		p.ln = nil
	}
	p.mu.Unlock()
	p.wg.Wait()
	return err
}
