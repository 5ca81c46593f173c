package serve

import (
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
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
