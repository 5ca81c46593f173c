// Package progtest starts a service's real run function for program tests, the
// way the binary runs, and finds the addresses it listens on from its JSON log.
package progtest

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"
)

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

// RunFunc is a service's run function (serve.RunFunc; progtest does not
// import serve, so that tests of tools without a server stay light).
type RunFunc func(ctx context.Context, environ []string, stdout io.Writer) error

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

// Get GETs url from the test and returns the answer's status, Content-Type
// and body. A call that cannot be made ends the test.
func Get(t *testing.T, url string) (status int, contentType string, body []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close() //nolint:errcheck // read-only body
	body, err = io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read the answer: %v", url, err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), body
}

// GetJSON GETs url, decodes the JSON answer into v unless v is nil, and
// returns the status. An answer that does not decode ends the test.
func GetJSON(t *testing.T, url string, v any) int {
	t.Helper()
	status, _, body := Get(t, url)
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("GET %s = %d %.200s: decode: %v", url, status, body, err)
		}
	}
	return status
}
