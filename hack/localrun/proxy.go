package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"time"
)

// serviceProxy plays kube-proxy for one Service virtual IP: it picks a
// backend at random for each new connection and then only copies bytes. Like
// kube-proxy it balances connections, not requests, and refuses connections
// when the Service has no endpoints.
type serviceProxy struct {
	ln       net.Listener
	mu       sync.Mutex
	backends []string
	wg       sync.WaitGroup
}

func listenServiceProxy(addr string) (*serviceProxy, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(context.Background(), "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("service IP %s: %w", addr, err)
	}
	p := &serviceProxy{ln: ln}
	p.wg.Go(p.accept)
	return p, nil
}

func (p *serviceProxy) setBackends(addrs []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.backends = addrs
}

func (p *serviceProxy) pick() (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.backends) == 0 {
		return "", false
	}
	return p.backends[rand.IntN(len(p.backends))], true //nolint:gosec // load balancing, not security
}

func (p *serviceProxy) accept() {
	for {
		conn, err := p.ln.Accept()
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
		// kube-proxy rejects connections to a Service without endpoints;
		// a reset is the closest a user-space proxy gets.
		if tc, isTCP := client.(*net.TCPConn); isTCP {
			tc.SetLinger(0) //nolint:errcheck,gosec // best effort
		}
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
	err := p.ln.Close()
	p.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
