package probe

import (
	"context"
	"net/http"
	"strconv"
	"time"
)

// busyTries is how often RetryBusy asks a peer that keeps saying it is busy.
const busyTries = 4

// maxBusyWait bounds one wait, whatever Retry-After a peer asks for.
const maxBusyWait = 5 * time.Second

// retryAfter is how long a 429 answer asks the client to wait: its
// Retry-After in seconds (nginx and our services never send a date), or a
// second when it says nothing usable.
func retryAfter(h http.Header) time.Duration {
	s, err := strconv.Atoi(h.Get("Retry-After"))
	if err != nil || s < 0 {
		return time.Second
	}
	return time.Duration(s) * time.Second
}

// RetryBusy calls get until the answer is not 429 Too Many Requests, waiting
// what the peer asked for in between (at most maxBusyWait), as a
// well-behaved client of a rate limit does. It gives up after busyTries
// calls, or when ctx ends, and returns the last answer. Only the lab's own
// clients use it: the services report a busy peer instead of hiding it.
func RetryBusy(ctx context.Context, get func(context.Context) Result) Result {
	res := get(ctx)
	for try := 1; try < busyTries && res.Status == http.StatusTooManyRequests; try++ {
		wait := min(res.RetryAfter, maxBusyWait)
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return res
		case <-timer.C:
		}
		res = get(ctx)
	}
	return res
}
