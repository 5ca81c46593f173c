package serve

import (
	"crypto/rand"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
)

// requestIDHeader carries a caller's request ID; the request log keeps it,
// so one request can be followed through the logs of several services.
const requestIDHeader = "X-Request-Id"

// requestIDs hands out IDs of the form host/random-000001: the random part
// tells one process start from another, and the counter costs one atomic
// add per request.
type requestIDs struct {
	prefix string
	n      atomic.Uint64
}

func newRequestIDs() *requestIDs {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	return &requestIDs{prefix: host + "/" + rand.Text()[:10] + "-"}
}

// maxRequestIDLen bounds a caller's request ID: it is logged and passed on,
// so a client must not be able to fill the logs with one.
const maxRequestIDLen = 64

// forRequest is the caller's ID when it sent a well-formed one, else the
// next of ours.
func (ids *requestIDs) forRequest(r *http.Request) string {
	if id := r.Header.Get(requestIDHeader); validRequestID(id) {
		return id
	}
	n := strconv.FormatUint(ids.n.Add(1), 10)
	const width = 6
	if len(n) < width {
		n = "000000"[len(n):] + n
	}
	return ids.prefix + n
}

// validRequestID accepts IDs of up to maxRequestIDLen letters, digits and
// the punctuation IDs usually carry (ours: host/random-000001; others:
// UUIDs, trace IDs), nothing that could break a log line or a header.
func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for _, c := range []byte(id) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("-_.:/+=", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// statusWriter remembers the status code a handler sent. Unwrap lets
// http.ResponseController reach the server's writer for Flush and Hijack.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	// An informational 1xx is not the response's status; 101 ends the
	// exchange, so it is.
	if w.code == 0 && (code >= http.StatusOK || code == http.StatusSwitchingProtocols) {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// status is the response's status code: a handler that writes nothing
// sends 200.
func (w *statusWriter) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}
