package dashboard

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestAssets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path     string
		wantCode int
		wantType string
	}{
		{path: "/static/dashboard.css", wantCode: http.StatusOK, wantType: "text/css; charset=utf-8"},
		{path: "/static/dashboard.js", wantCode: http.StatusOK, wantType: "text/javascript; charset=utf-8"},
		{path: "/static/", wantCode: http.StatusNotFound},
		{path: "/static/missing.css", wantCode: http.StatusNotFound},
		{path: "/templates/page.tmpl", wantCode: http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			Assets().ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, tt.path, nil))
			if rec.Code != tt.wantCode {
				t.Fatalf("GET %s: got status %d, want %d", tt.path, rec.Code, tt.wantCode)
			}
			if tt.wantCode != http.StatusOK {
				return
			}
			if got := rec.Header().Get("Content-Type"); got != tt.wantType {
				t.Errorf("GET %s: got Content-Type %q, want %q", tt.path, got, tt.wantType)
			}
			if rec.Body.Len() == 0 {
				t.Errorf("GET %s: got an empty body", tt.path)
			}
		})
	}
}

// TestPageLinksItsAssets checks that the page asks for the files Assets serves.
func TestPageLinksItsAssets(t *testing.T) {
	t.Parallel()
	doc := render(t, Page{})
	var urls []string
	for _, l := range findAll(doc, withTag("link")) {
		urls = append(urls, attr(l, "href"))
	}
	for _, s := range findAll(doc, withTag("script")) {
		urls = append(urls, attr(s, "src"))
	}
	if len(urls) != 2 {
		t.Fatalf("asset URLs: got %q, want the stylesheet and the script", urls)
	}
	for _, u := range urls {
		rec := httptest.NewRecorder()
		Assets().ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, u, nil))
		if rec.Code != http.StatusOK {
			t.Errorf("GET %s: got status %d, want %d", u, rec.Code, http.StatusOK)
		}
	}
}
