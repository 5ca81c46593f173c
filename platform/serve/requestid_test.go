package serve

import (
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
)

func TestRequestIDs(t *testing.T) {
	t.Parallel()
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	ids := newRequestIDs()
	req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/", nil)
	first, second := ids.forRequest(req), ids.forRequest(req)
	format := regexp.MustCompile(`^` + regexp.QuoteMeta(host) + `/[A-Z2-7]{10}-(\d{6})$`)
	for i, id := range []string{first, second} {
		m := format.FindStringSubmatch(id)
		if m == nil || m[1] != []string{"000001", "000002"}[i] {
			t.Errorf("request ID %d = %q, want %s/<10 random>-00000%d", i+1, id, host, i+1)
		}
	}
	if other := newRequestIDs().forRequest(req); other[:len(other)-6] == first[:len(first)-6] {
		t.Errorf("two processes' IDs share the prefix %q: a restart must be told apart", other[:len(other)-6])
	}
	req.Header.Set(requestIDHeader, "req-42")
	if got := ids.forRequest(req); got != "req-42" {
		t.Errorf("with %s: req-42 the ID is %q, want the caller's", requestIDHeader, got)
	}
}

// TestRequestIDsRejectBadCallerIDs: a caller's ID is logged and passed on,
// so only short, plain ones are kept; anything else gets one of ours.
func TestRequestIDsRejectBadCallerIDs(t *testing.T) {
	t.Parallel()
	ids := newRequestIDs()
	for _, id := range []string{
		"8b0c1a2e-5f3d-4c6b-9a7e-0d1f2e3c4b5a", "frontend-0/ABCDEFGHIJ-000042", "00-4bf92f35-00f067aa0b-01",
		strings.Repeat("a", maxRequestIDLen),
	} {
		req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/", nil)
		req.Header.Set(requestIDHeader, id)
		if got := ids.forRequest(req); got != id {
			t.Errorf("caller's ID %q became %q, want it kept", id, got)
		}
	}
	for _, id := range []string{
		strings.Repeat("a", maxRequestIDLen+1), "has space", "quote\"", "new\nline", "ünïcode", "<script>",
	} {
		req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/", nil)
		req.Header.Set(requestIDHeader, id)
		if got := ids.forRequest(req); got == id || !strings.HasPrefix(got, ids.prefix) {
			t.Errorf("caller's ID %q gave %q, want one of ours (%s...)", id, got, ids.prefix)
		}
	}
}

func TestStatusWriter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		write func(w http.ResponseWriter)
		want  int
	}{
		{"nothing written", func(http.ResponseWriter) {}, http.StatusOK},
		{"body only", func(w http.ResponseWriter) { w.Write([]byte("hi")) }, http.StatusOK}, //nolint:errcheck // recorder
		{"status", func(w http.ResponseWriter) { w.WriteHeader(http.StatusTeapot) }, http.StatusTeapot},
		{"first status counts", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusNotFound)
			w.WriteHeader(http.StatusInternalServerError)
		}, http.StatusNotFound},
		{"1xx first", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusEarlyHints)
			w.WriteHeader(http.StatusCreated)
		}, http.StatusCreated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := &statusWriter{ResponseWriter: httptest.NewRecorder()}
			tt.write(w)
			if got := w.status(); got != tt.want {
				t.Errorf("status = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestStatusWriterUnwraps: a handler can still flush through the wrapper.
func TestStatusWriterUnwraps(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	if err := http.NewResponseController(&statusWriter{ResponseWriter: rec}).Flush(); err != nil {
		t.Fatalf("Flush through statusWriter: %v", err)
	}
	if !rec.Flushed {
		t.Error("the server's writer was not flushed")
	}
}
