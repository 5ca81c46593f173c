// Package browser opens the dashboard in a real headless Chromium, driven
// over the DevTools protocol (chromedp), and reads back what the browser laid
// out: every text's box, every arrow's points and colour, every row of the
// paths table, the console's errors. The checks on that layout are plain Go
// (layout.go); this file only talks to the browser.
package browser

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"iter"
	"os"
	"os/exec"
	"path/filepath"
	"sync"

	"github.com/chromedp/chromedp"
)

// Candidates are the browsers tried, in order: Debian's headless shell is
// the smallest (apt-get install chromium-headless-shell).
var Candidates = []string{"chromium-headless-shell", "chromium", "google-chrome", "chrome"}

// Find returns the browser to drive: $PODPATHS_E2E_BROWSER, or the first of
// Candidates on the PATH.
func Find() (string, error) {
	if b := os.Getenv("PODPATHS_E2E_BROWSER"); b != "" {
		return exec.LookPath(b)
	}
	for _, c := range Candidates {
		if p, err := exec.LookPath(c); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no browser found (tried %v; apt-get install chromium-headless-shell, or set PODPATHS_E2E_BROWSER)", Candidates)
}

// Browser is one headless browser process.
type Browser struct {
	ctx    context.Context
	cancel context.CancelFunc
}

// Start starts the browser at execPath. Close stops it.
func Start(ctx context.Context, execPath string) (*Browser, error) {
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(execPath))
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancel := chromedp.NewContext(actx)
	// The first action starts the process; an empty one says whether it can.
	if err := chromedp.Do(bctx); err != nil {
		cancel()
		cancelAlloc()
		return nil, fmt.Errorf("start %s: %w", execPath, err)
	}
	return &Browser{ctx: bctx, cancel: func() { cancel(); cancelAlloc() }}, nil
}

// Close stops the browser.
func (b *Browser) Close() { b.cancel() }

// Page is one tab with a fixed viewport, and the console messages it got.
type Page struct {
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	messages []string
}

// NewPage opens a tab whose viewport is width x height CSS pixels.
func (b *Browser) NewPage(width, height int64) (*Page, error) {
	ctx, cancel := chromedp.NewContext(b.ctx)
	p := &Page{ctx: ctx, cancel: cancel}
	messages := chromedp.Console(ctx)
	go p.record(messages)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, height)); err != nil {
		cancel()
		return nil, fmt.Errorf("open a %dx%d tab: %w", width, height, err)
	}
	return p, nil
}

// record keeps the errors among the console's messages until the tab closes.
func (p *Page) record(messages iter.Seq2[chromedp.ConsoleMessage, error]) {
	for m, err := range messages {
		if err != nil {
			return
		}
		if m.Type == chromedp.ConsoleError || m.IsException() {
			p.mu.Lock()
			p.messages = append(p.messages, fmt.Sprintf("%s (%s:%d)", m, m.URL, m.Line+1))
			p.mu.Unlock()
		}
	}
}

// Close closes the tab.
func (p *Page) Close() { p.cancel() }

// Errors returns the console errors and uncaught exceptions so far: failed
// loads of the page's own files show up here too.
func (p *Page) Errors() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.messages...)
}

// Open loads url and waits until the topology picture is visible.
func (p *Page) Open(url string) error {
	if err := chromedp.Do(p.ctx, chromedp.Navigate(url), chromedp.WaitVisible("svg.topology")); err != nil {
		return fmt.Errorf("open %s: %w", url, err)
	}
	return nil
}

// Eval runs a script in the page and decodes its value.
func Eval[T any](p *Page, script string) (T, error) {
	return chromedp.Run(p.ctx, chromedp.Evaluate[T](script))
}

// Key types keys into the focused element, as a user does (kb.Tab, " ").
func (p *Page) Key(keys string) error {
	return chromedp.Do(p.ctx, chromedp.KeyEvent(keys))
}

// Screenshot writes a PNG of the whole page to path.
func (p *Page) Screenshot(path string) error {
	png, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return fmt.Errorf("screenshot: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, png, 0o644)
}

//go:embed audit.js
var auditScript string

// Audit is the dashboard as the browser laid it out.
type Audit struct {
	Drawing Drawing `json:"drawing"`
	Rows    []Row   `json:"rows"`
	// Marks are the picture's arrows and sibling marks, each with the key
	// of the path (or group of paths) it stands for.
	Marks []Mark `json:"marks"`
	// Legend maps an outcome (pass, fail, skip, none) to its colour.
	Legend map[string]string `json:"legend"`
	// PictureRole and PictureName are what a screen reader announces for
	// the topology picture.
	PictureRole string `json:"pictureRole"`
	PictureName string `json:"pictureName"`
	// FigureScrolls: the picture is wider than its frame, which must then
	// scroll rather than cut it off.
	FigureScrolls    bool `json:"figureScrolls"`
	FigureScrollable bool `json:"figureScrollable"`
}

// Row is one row of the paths table.
type Row struct {
	ID      string `json:"id"`
	Outcome string `json:"outcome"`
	Hop     bool   `json:"hop"`
	Drawn   bool   `json:"drawn"`
	Colour  string `json:"colour"`
}

// Mark is an arrow or a sibling mark of the picture.
type Mark struct {
	Key     string `json:"key"`
	Outcome string `json:"outcome"`
	Colour  string `json:"colour"`
}

// Audit reads the page.
func (p *Page) Audit() (Audit, error) {
	a, err := Eval[Audit](p, auditScript)
	if err != nil {
		return Audit{}, fmt.Errorf("audit the page: %w", err)
	}
	if len(a.Legend) == 0 {
		return a, errors.New("audit the page: no legend")
	}
	return a, nil
}
