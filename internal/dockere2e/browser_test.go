package dockere2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumEnv names a browser other than the one found on PATH.
const chromiumEnv = "HEMOSTAT_CHROMIUM"

// artifactsEnv names a directory for the browser tests' screenshots; they
// go to the test's temporary directory otherwise. Either way the paths are
// logged.
const artifactsEnv = "HEMOSTAT_TEST_ARTIFACTS"

// chromium returns the browser's path. A missing browser fails the test:
// scripts/test.sh installs Debian's chromium package, and a dashboard test
// that skips itself proves nothing.
func chromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(chromiumEnv); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatalf("no chromium on PATH (nor in $%s): install Debian's chromium package, as scripts/test.sh does", chromiumEnv)
	return ""
}

// page is one headless Chromium tab and what its console said.
type page struct {
	t   testing.TB
	ctx context.Context
	dir string // screenshots

	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

// openBrowser starts a headless Chromium (without the sandbox: the tests
// run as root) of the given window size, closed when the test ends, and
// records every console message, uncaught exception and browser log entry
// of its tab from the start.
func openBrowser(t testing.TB, width, height int) *page {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.WindowSize(width, height),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	p := &page{t: t, ctx: ctx, dir: artifactDir(t)}
	// Start the browser now, so that a missing or broken one fails here.
	// The first Run's context is the browser's lifetime: no timeout on it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			p.mu.Lock()
			p.console = append(p.console, m)
			p.mu.Unlock()
		}
	}()
	return p
}

func artifactDir(t testing.TB) string {
	t.Helper()
	base := os.Getenv(artifactsEnv)
	if base == "" {
		return t.TempDir()
	}
	dir := filepath.Join(base, strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// do runs browser actions, bounded so that a hung page fails the test.
func (p *page) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.fail("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression that returns a boolean.
func (p *page) eval(expr string) (bool, error) {
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
}

// text returns the text of the first element matching sel, or "".
func (p *page) text(sel string) string {
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		"(n => n ? n.innerText : '')(document.querySelector("+strconv.Quote(sel)+"))"))
	if err != nil {
		p.fail("text of %s: %v", sel, err)
	}
	return s
}

// has reports whether an element matches the CSS selector.
func (p *page) has(sel string) bool {
	p.t.Helper()
	ok, err := p.eval("document.querySelector(" + strconv.Quote(sel) + ") !== null")
	if err != nil {
		p.fail("query %s: %v", sel, err)
	}
	return ok
}

// waitFor polls until an element matches sel: the page changes on its own
// (stream, polls), so the test watches it as a person would, without
// reloading. It fails with a screenshot and the timeline's text.
func (p *page) waitFor(what, sel string, timeout time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		// An error is a navigation under way (the login form's submit):
		// the next poll asks the new page.
		ok, err := p.eval("document.querySelector(" + strconv.Quote(sel) + ") !== null")
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			p.fail("%s: nothing matches %s within %s (last error: %v)", what, sel, timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// click clicks the first element matching sel. It is done in the page, in
// one step: the page redraws its cards on every poll, so a node looked up
// by the test and clicked a moment later could be gone.
func (p *page) click(sel string) {
	p.t.Helper()
	ok, err := p.eval("(n => n ? (n.click(), true) : false)(document.querySelector(" + strconv.Quote(sel) + "))")
	if err != nil || !ok {
		p.fail("click %s: found %v, %v", sel, ok, err)
	}
}

// login submits the login form with token and waits for the page it
// leads to.
func (p *page) login(token string) {
	p.t.Helper()
	p.do("sign in", chromedp.Evaluate[chromedp.Void](
		`document.querySelector("#token").value = `+strconv.Quote(token)+`; document.querySelector("form").submit()`),
	)
}

// fail saves a screenshot and the visible text, then fails the test.
func (p *page) fail(format string, args ...any) {
	p.t.Helper()
	p.screenshot("failure")
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	body, _ := chromedp.Run(ctx, chromedp.Evaluate[string]("document.body ? document.body.innerText : ''"))
	p.t.Fatalf("%s\npage text:\n%s\nconsole:\n%s", fmt.Sprintf(format, args...), body, p.consoleDump(nil))
}

// screenshot saves the whole page as name.png and logs its path.
func (p *page) screenshot(name string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	path := filepath.Join(p.dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Fatal(err)
	}
	p.t.Logf("screenshot: %s", path)
	return path
}

// consoleErrors returns the console errors, uncaught exceptions and browser
// log errors (a failed request, a CSP violation) so far.
func (p *page) consoleErrors() []chromedp.ConsoleMessage {
	p.mu.Lock()
	defer p.mu.Unlock()
	var bad []chromedp.ConsoleMessage
	for _, m := range p.console {
		if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException || m.Type == "assert" {
			bad = append(bad, m)
		}
	}
	return bad
}

func (p *page) consoleDump(ms []chromedp.ConsoleMessage) string {
	if ms == nil {
		p.mu.Lock()
		ms = append(ms, p.console...)
		p.mu.Unlock()
	}
	var b strings.Builder
	for _, m := range ms {
		fmt.Fprintf(&b, "  %s (%s:%d)\n", m, m.URL, m.Line)
	}
	return b.String()
}
