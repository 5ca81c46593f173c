// Package progtest starts a service's real run function for program tests, the
// way the binary runs, and finds the addresses it listens on from its JSON log.
package progtest

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"testing"
	"time"
)

// RunFunc is a service's run function.
type RunFunc func(ctx context.Context, environ []string, stdout io.Writer) error

// Program is a started program.
type Program struct {
	// Addrs maps each server's name ("app", "admin") to its address.
	Addrs map[string]string
	// Stop cancels run's context, as SIGTERM would.
	Stop context.CancelFunc

	done chan struct{}
	err  error
}

// Wait waits for run to return and returns its error.
func (p *Program) Wait() error {
	<-p.done
	return p.err
}

// Start runs run with environ and waits until every server in servers has
// logged "listening". It stops the program when the test ends.
func Start(t *testing.T, run RunFunc, environ []string, servers ...string) *Program {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	p := &Program{Stop: cancel, done: make(chan struct{})}
	go func() {
		p.err = run(ctx, environ, pw)
		close(p.done)
		pw.Close() //nolint:errcheck // a pipe's Close never fails
	}()
	addrs := make(chan map[string]string, 1)
	go scan(pr, len(servers), addrs)

	select {
	case p.Addrs = <-addrs:
	case <-p.done:
		t.Fatalf("program exited before listening: %v", p.err)
	case <-time.After(10 * time.Second):
		t.Fatalf("program did not log listening for %v within 10s", servers)
	}
	t.Cleanup(func() {
		cancel()
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			t.Errorf("program did not stop within 10s of cancel")
		}
	})
	return p
}

// scan reads JSON log lines, sends the addresses once n servers listen, and
// keeps draining so the program never blocks on its log.
func scan(r io.Reader, n int, out chan<- map[string]string) {
	addrs := make(map[string]string)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		var line struct {
			Msg    string `json:"msg"`
			Server string `json:"server"`
			Addr   string `json:"addr"`
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil || line.Msg != "listening" {
			continue
		}
		addrs[line.Server] = line.Addr
		if len(addrs) == n {
			out <- addrs
		}
	}
}
