package serve

import (
	"net/http"
	"strconv"
)

// Limiter lets at most a fixed number of requests run at once across every
// handler it wraps, in the whole process. The frontend wraps its expensive
// answers with one: a path report or a spread calls every backend, so a
// client looping on them must not be able to queue unbounded work, nor
// fill the node's conntrack table with the connections it opens.
type Limiter struct {
	slots chan struct{}
}

// NewLimiter returns a limiter with n slots.
func NewLimiter(n int) *Limiter {
	return &Limiter{slots: make(chan struct{}, n)}
}

// Size is how many requests may run at once.
func (l *Limiter) Size() int { return cap(l.slots) }

// Limit runs h when a slot is free; otherwise busy answers at once, with a
// Retry-After of one second. A request never waits for a slot: a queue
// would only move the pile-up.
func (l *Limiter) Limit(h, busy http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case l.slots <- struct{}{}:
			defer func() { <-l.slots }()
			h.ServeHTTP(w, r)
		default:
			w.Header().Set("Retry-After", "1")
			busy.ServeHTTP(w, r)
		}
	})
}

// Busy answers 429 Too Many Requests with a JSON error saying that limit's
// slots are all taken.
func Busy(l *Limiter) http.Handler {
	msg := "busy: " + strconv.Itoa(l.Size()) + " reports are running already; try again in a second"
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		Error(w, http.StatusTooManyRequests, msg)
	})
}
