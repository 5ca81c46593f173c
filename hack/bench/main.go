// Command bench is the load side of `make bench`. It has two modes:
//
//	bench bare -addr 127.0.0.1:18080
//	    serves GET /whoami with net/http alone, the same JSON the backend
//	    sends: the baseline its middleware (request ID, request log,
//	    metrics, recoverer, chi routing) is measured against.
//	bench load -url http://127.0.0.1:18080/whoami -duration 5s -conns 8
//	    a closed loop of keep-alive clients for a bounded time, on loopback
//	    only; prints requests/s and latency percentiles as JSON.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/podpaths/podpaths/platform/identity"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: bench bare|load [flags]")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "bare":
		err = bare(ctx, os.Args[2:])
	case "load":
		err = load(ctx, os.Args[2:], os.Stdout)
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

func bare(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bare", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:18080", "listen address (loopback)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	self := identity.New("backend", "bare", identity.Env{}, time.Now())
	mux := http.NewServeMux()
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		json.NewEncoder(w).Encode(identity.ForRequest(self, r)) //nolint:errcheck,gosec // benchmark baseline
	})
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close() //nolint:errcheck,gosec // shutting down
	}()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Result is what a load run measured.
type Result struct {
	URL        string  `json:"url"`
	Requests   int     `json:"requests"`
	Errors     int     `json:"errors"`
	Seconds    float64 `json:"seconds"`
	RPS        float64 `json:"rps"`
	P50Millis  float64 `json:"p50_ms"`
	P99Millis  float64 `json:"p99_ms"`
	Concurrent int     `json:"conns"`
}

func load(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	target := fs.String("url", "", "URL to GET (loopback only)")
	duration := fs.Duration("duration", 5*time.Second, "how long to run (at most 60s)")
	conns := fs.Int("conns", 8, "concurrent keep-alive clients")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := checkLoopback(*target); err != nil {
		return err
	}
	if *duration <= 0 || *duration > time.Minute || *conns < 1 || *conns > 256 {
		return errors.New("want 0 < duration <= 60s and 1 <= conns <= 256")
	}
	ctx, cancel := context.WithTimeout(ctx, *duration)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *conns}, Timeout: 5 * time.Second}

	var mu sync.Mutex
	var lat []time.Duration
	errs := 0
	var wg sync.WaitGroup
	start := time.Now()
	for range *conns {
		wg.Go(func() {
			mine, bad := run(ctx, client, *target)
			mu.Lock()
			defer mu.Unlock()
			lat = append(lat, mine...)
			errs += bad
		})
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	slices.Sort(lat)
	res := Result{URL: *target, Requests: len(lat), Errors: errs, Seconds: elapsed,
		RPS: float64(len(lat)) / elapsed, Concurrent: *conns,
		P50Millis: percentile(lat, 0.50), P99Millis: percentile(lat, 0.99)}
	return json.NewEncoder(out).Encode(res)
}

// run is one client's closed loop: a request, then the next, until ctx ends.
func run(ctx context.Context, client *http.Client, target string) (lat []time.Duration, errs int) {
	for ctx.Err() == nil {
		t0 := time.Now()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		if err != nil {
			return lat, errs + 1
		}
		resp, err := client.Do(req)
		if err != nil {
			if ctx.Err() == nil {
				errs++
			}
			continue
		}
		_, copyErr := io.Copy(io.Discard, resp.Body)
		resp.Body.Close() //nolint:errcheck,gosec // read-only body
		if ctx.Err() != nil {
			break // the run's end cut this request short: neither a result nor an error
		}
		if copyErr != nil || resp.StatusCode != http.StatusOK {
			errs++
			continue
		}
		lat = append(lat, time.Since(t0))
	}
	return lat, errs
}

func percentile(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return float64(sorted[int(q*float64(len(sorted)-1))].Microseconds()) / 1000
}

// checkLoopback refuses any target that is not on this machine's loopback.
func checkLoopback(target string) error {
	u, err := url.Parse(target)
	if err != nil || u.Hostname() == "" {
		return fmt.Errorf("bad -url %q", target)
	}
	switch h := u.Hostname(); {
	case h == "localhost", len(h) > 4 && h[:4] == "127.", h == "::1":
		return nil
	default:
		return fmt.Errorf("-url %q: load runs only against loopback", target)
	}
}
