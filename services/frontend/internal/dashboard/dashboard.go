// Package dashboard renders the podpaths dashboard: one server-rendered page
// that draws how the browser reached the frontend and how nginx, the frontend
// and the backend pods reach each other, from the frontend's path report.
//
// The page is complete without JavaScript; the one small script only adds an
// auto-refresh toggle. Templates, CSS and script are embedded in the binary,
// and the page loads nothing from outside the cluster.
package dashboard

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"strings"

	"github.com/podpaths/podpaths/platform/report"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

// staticFS keeps the static/ prefix, so a request for /static/dashboard.css
// finds static/dashboard.css without stripping anything.
//
//go:embed static
var staticFS embed.FS

// Page is everything the dashboard shows. It holds the wire shapes
// themselves (report.*), so the page shows what the API answers.
type Page struct {
	Title   string          // e.g. "podpaths"
	Self    report.Identity // the frontend pod that rendered the page
	Entry   Entry           // how the browser reached this page
	Report  report.Report   // the frontend's path report
	Spreads []report.Spread // which pod answered many calls, e.g. with and without keep-alive
	// Links are the *_SERVICE_HOST and *_SERVICE_PORT variables the pod
	// started with. Empty is a finding, not an error: the page explains it.
	Links []report.Link
}

// Entry is how the browser reached this page.
type Entry struct {
	Via       string // e.g. "NodePort 30080", "LoadBalancer", "direct"
	Host      string // the Host or X-Forwarded-Host the browser used
	ClientIPs []Hop  // the client address each hop saw, browser side first
}

// Hop is the client address one hop saw, e.g. nginx and its X-Real-IP.
type Hop struct{ Hop, IP string }

// Renderer renders dashboard pages. It is safe for concurrent use.
type Renderer struct {
	tmpl *template.Template
}

// New parses the embedded templates. It fails only if the templates are
// broken, which the tests catch, so callers may treat an error as fatal.
func New() (*Renderer, error) {
	tmpl, err := template.ParseFS(templateFS, "templates/*.tmpl")
	if err != nil {
		return nil, fmt.Errorf("parse dashboard templates: %w", err)
	}
	return &Renderer{tmpl: tmpl}, nil
}

// Render writes the page for p to w. It renders into memory first, so a
// failure never leaves half a page on the wire.
func (r *Renderer) Render(w io.Writer, p Page) error {
	var buf bytes.Buffer
	if err := r.tmpl.ExecuteTemplate(&buf, "page", newView(p)); err != nil {
		return fmt.Errorf("render dashboard: %w", err)
	}
	if _, err := buf.WriteTo(w); err != nil {
		return fmt.Errorf("write dashboard: %w", err)
	}
	return nil
}

// Assets serves the embedded CSS and JavaScript. It expects the whole request
// path, /static/<file>, so mount it at /static/ without stripping the prefix.
// Directories are not listed: there is nothing to browse.
func Assets() http.Handler {
	files := http.FileServerFS(staticFS)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(w, r)
	})
}
