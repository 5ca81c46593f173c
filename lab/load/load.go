// Package load is the lab's load generator, for the e2e suite's rolling
// restarts and the workshop's drills: steady traffic sent the way
// browsers, nginx and load generators send it, over a fixed pool of
// persistent connections per target (or, to compare, a new connection per
// request), paced so that it stays light on the machine, and counting every
// request.
//
// A request counts as failed when it got no 2xx answer, or when its target's
// check rejects the answer. A request counts as retried when net/http had to
// send it again on a new connection because the server closed the kept-alive
// one under it: it worked here, but a client that does not retry (wrk, say)
// would have lost it, so the tests assert that no request was retried
// either.
package load

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/podpaths/podpaths/platform/probe"
)

// Target is one stream of requests.
type Target struct {
	// Name says what is called and through which entry, e.g.
	// "loadbalancer /api/paths".
	Name string
	URL  string
	// Conns is how many requests are in flight at once, one worker each;
	// with keep-alive it is the size of the connection pool.
	Conns int
	// Every is each worker's pause between requests.
	Every time.Duration
	// Check rejects a 2xx answer that is wrong all the same; nil accepts
	// any 2xx.
	Check func(probe.Result) error
}

// Counts are what a target's requests came to.
type Counts struct {
	Requests, Failed, Retried int
	// Conns is how many connections the requests used.
	Conns int
	// Failures describe the first failed or retried requests.
	Failures []string
}

// maxFailures bounds the failures kept per target: the first ones say what
// went wrong.
const maxFailures = 20

// Run is load in progress.
type Run struct {
	stop context.CancelFunc
	wg   sync.WaitGroup
	mu   sync.Mutex
	// counts and conns are per target name.
	counts map[string]*Counts
	conns  map[string]map[string]bool
}

// Start sends requests to every target until Stop. With keepAlive, each
// target has its own pool of at most Conns persistent connections;
// without, every request opens a new one. timeout bounds each request.
func Start(ctx context.Context, targets []Target, keepAlive bool, timeout time.Duration) *Run {
	ctx, stop := context.WithCancel(ctx)
	r := &Run{stop: stop, counts: map[string]*Counts{}, conns: map[string]map[string]bool{}}
	for _, t := range targets {
		r.counts[t.Name] = &Counts{}
		r.conns[t.Name] = map[string]bool{}
		// A fixed pool: never more connections than workers, so a
		// connection the server closes must be replaced, not hidden among
		// spares.
		client := probe.NewClient(probe.ClientOptions{Timeout: timeout, KeepAlive: keepAlive, MaxConns: t.Conns})
		prober := &probe.Prober{Client: client, Timeout: timeout}
		for range t.Conns {
			r.wg.Go(func() { r.work(ctx, prober, t) })
		}
	}
	return r
}

// work sends t's requests one after another until ctx ends. Each request
// gets its own deadline, not ctx's: one in flight when the load stops must
// finish and count.
func (r *Run) work(ctx context.Context, prober *probe.Prober, t Target) {
	for ctx.Err() == nil {
		r.record(t, prober.GetURL(context.WithoutCancel(ctx), t.URL, ""))
		select {
		case <-ctx.Done():
		case <-time.After(t.Every):
		}
	}
}

func (r *Run) record(t Target, res probe.Result) {
	err := res.Err
	if err == nil && t.Check != nil {
		err = t.Check(res)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.counts[t.Name]
	c.Requests++
	if res.LocalAddr != "" {
		r.conns[t.Name][res.LocalAddr] = true
	}
	at := time.Now().Format("15:04:05.000")
	switch {
	case err != nil:
		c.Failed++
		c.note(fmt.Sprintf("%s %s: %v", at, t.Name, err))
	case res.Retried:
		c.Retried++
		c.note(fmt.Sprintf("%s %s: answered only after a retry on a new connection: the server closed a kept-alive one under the request", at, t.Name))
	}
}

func (c *Counts) note(s string) {
	if len(c.Failures) < maxFailures {
		c.Failures = append(c.Failures, s)
	}
}

// Snapshot returns the counts so far, by target name.
func (r *Run) Snapshot() map[string]Counts {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]Counts, len(r.counts))
	for name, c := range r.counts {
		cc := *c
		cc.Failures = slices.Clone(c.Failures)
		cc.Conns = len(r.conns[name])
		out[name] = cc
	}
	return out
}

// Stop ends the load, waits for the requests in flight and returns the
// counts by target name.
func (r *Run) Stop() map[string]Counts {
	r.stop()
	r.wg.Wait()
	return r.Snapshot()
}

// Total adds up counts.
func Total(counts map[string]Counts) Counts {
	var t Counts
	for _, c := range counts {
		t.Requests += c.Requests
		t.Failed += c.Failed
		t.Retried += c.Retried
		t.Conns += c.Conns
	}
	return t
}
