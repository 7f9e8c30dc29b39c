package dockere2e

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/hemostat/hemostat/internal/daemontest"
)

// screenshotEnv, when set, is where TestDashboard copies the screenshot
// that the README shows (docs/dashboard.png), so that the picture comes
// from a real run: HEMOSTAT_README_SCREENSHOT=$PWD/docs/dashboard.png.
const screenshotEnv = "HEMOSTAT_README_SCREENSHOT"

// TestDashboard opens the dashboard in a real headless Chromium against a
// running hemostatd, its redis-server and the real engine, and watches it
// as a person would, never reloading: a steady container appears in the
// grid with its sparkline; a container started after the page was opened
// appears, crashes, and the alert, the decision and the restart arrive on
// the timeline over the stream; it crashes again, the breaker (one action
// an hour here) escalates, and the container is pinned at the top as
// needing a person. Its detail shows the decision trail and the restart.
// The page must log no console error, exception or failed request.
func TestDashboard(t *testing.T) {
	e := newEngine(t)
	p := scenarioPrefix()
	s := newSettings()
	s.BreakerMax = 1
	d := startDaemon(t, p, s)
	steady, crash := p+"steady", p+"crash"
	e.run(t, steady, []string{"--idle"}, nil, nil)

	b := openBrowser(t, 1280, 1000)
	b.do("open the dashboard", chromedp.Navigate("http://"+d.HTTPAddr()+"/"))
	b.waitFor("the stream is live", `#live[data-live="on"]`, 20*time.Second)
	b.waitFor("the steady container is in the grid", card(steady), 30*time.Second)
	b.waitFor("its sparkline is drawn by uPlot", card(steady)+" .spark canvas", 10*time.Second)
	// The hosts strip: this daemon's host, up by its heartbeat, with
	// the containers its monitor samples.
	b.waitFor("the daemon's host up in the hosts strip", `#hosts:not([hidden]) .host[data-up="true"]`, 20*time.Second)
	if h := b.text("#hosts .host"); !strings.Contains(h, "container") || !strings.Contains(h, "up") {
		t.Errorf("the host's chip says neither its containers nor up:\n%s", h)
	}
	// A reload would lose this, and the stream's events would come back
	// marked "history".
	if ok, err := b.eval("window.hemostatTestMark = 'no reload'; true"); err != nil || !ok {
		t.Fatalf("mark the page: %v", err)
	}

	// Started only now, so that everything about it reaches the page live.
	id := e.run(t, crash, []string{"--exit", "3", "--after", "3s"}, nil, nil)
	b.waitFor("the new container appears in the grid", card(crash), 30*time.Second)
	b.waitFor("the crash on the timeline", event(crash, "health_alert", ""), 30*time.Second)
	b.waitFor("the decision on the timeline", event(crash, "remediation_needed", ""), 30*time.Second)
	b.waitFor("the restart on the timeline", event(crash, "remediation_complete", "success"), 30*time.Second)
	d.watch.WaitFor(t, completeType, crash, daemontest.StatusIs("success"), 5*time.Second) // on the bus too
	b.screenshot("restarted")

	// One action an hour: the next crash is refused and escalated.
	b.waitFor("the escalation on the timeline", event(crash, "escalation", ""), 60*time.Second)
	b.waitFor("the escalated container pinned at the top", `#pinned:not([hidden]) .pin[data-name="`+crash+`"]`, 30*time.Second)
	b.waitFor("its card marked escalated", card(crash)+`[data-state="escalated"]`, 30*time.Second)
	if ok, _ := b.eval(`document.querySelector("#containers .grid .card").dataset.name === "` + crash + `"`); !ok {
		t.Errorf("the escalated container is not the grid's first card")
	}
	if ok, _ := b.eval(`document.querySelector("#pinned").getBoundingClientRect().top < document.querySelector("#containers").getBoundingClientRect().top`); !ok {
		t.Errorf("the pinned escalations are not above the grid")
	}
	if pin := b.text(`.pin[data-name="` + crash + `"]`); !strings.Contains(pin, "circuit") {
		t.Errorf("the pinned escalation does not say why (the circuit breaker):\n%s", pin)
	}
	if ok, _ := b.eval("window.hemostatTestMark === 'no reload'"); !ok {
		t.Fatal("the page was reloaded")
	}
	if st := e.inspect(t, id).State.Status; st != "exited" {
		t.Errorf("the escalated container is %s, want exited: nothing restarts it any more", st)
	}
	waitTotals(b)
	// The restart did not hold: the crash came back within the backoff's
	// reset_after, so it is a relapse, not a success the rate can boast.
	waitTotal(b, "relapsed", "1")
	waitTotal(b, "success_rate", "0%")
	readme := b.screenshot("dashboard")

	// The detail: the decision trail and the remediation history.
	b.click(`.pin[data-name="` + crash + `"]`)
	b.waitFor("the detail dialog", `#detail[open]`, 10*time.Second)
	b.waitFor("the remediation history", `#detail .result[data-result="success"]`, 15*time.Second)
	detail := b.text("#detail")
	for _, want := range []string{"Decision trail", "threshold", "remediation_needed", "restart", "Breaker", "Backoff step", "relapsed after"} {
		if !strings.Contains(detail, want) {
			t.Errorf("the detail lacks %q:\n%s", want, detail)
		}
	}
	b.screenshot("detail")
	b.click("#detail .close")

	// On a phone: one column, nothing wider than the screen.
	b.do("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	if ok, _ := b.eval("document.documentElement.scrollWidth <= window.innerWidth + 1"); !ok {
		t.Errorf("the page is wider than a 390 px phone screen")
	}
	b.screenshot("phone")

	if bad := b.consoleErrors(); len(bad) > 0 {
		t.Errorf("console errors:\n%s", b.consoleDump(bad))
	}
	if dst := os.Getenv(screenshotEnv); dst != "" && readme != "" && !t.Failed() {
		png, err := os.ReadFile(readme)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("README screenshot written to %s", dst)
	}
}

func card(name string) string {
	return `#containers .card[data-name="` + name + `"]`
}

// event selects a timeline row for the container that arrived over the
// stream (data-source live), not from the history read at load.
func event(container, typ, status string) string {
	sel := `#events li[data-source="live"][data-container="` + container + `"][data-type="` + typ + `"]`
	if status != "" {
		sel += `[data-status="` + status + `"]`
	}
	return sel
}

// waitTotals waits until the totals count the restart, which the summary
// reads on its next poll.
func waitTotals(b *page) {
	b.t.Helper()
	b.waitFor("the totals count the remediation", `[data-total="remediations"]:not(:empty)`, 10*time.Second)
	deadline := time.Now().Add(15 * time.Second)
	for strings.TrimSpace(b.text(`[data-total="remediations"]`)) == "0" || b.text(`[data-total="remediations"]`) == "–" {
		if time.Now().After(deadline) {
			b.fail("the totals still count no remediation")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitTotal waits until the summary's figure for key reads want.
func waitTotal(b *page, key, want string) {
	b.t.Helper()
	sel := `[data-total="` + key + `"]`
	deadline := time.Now().Add(15 * time.Second)
	for strings.TrimSpace(b.text(sel)) != want {
		if time.Now().After(deadline) {
			b.fail("the totals' %s reads %q, want %q", key, b.text(sel), want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestDashboardLogin: with http.token set, a browser is sent to the login
// form; a wrong token is refused and said so; the right one sets the
// session cookie, and with it alone (no header: the page's fetches and its
// EventSource carry the cookie) the page reads the API and the stream.
func TestDashboardLogin(t *testing.T) {
	const token = "dashboard-test-token"
	e := newEngine(t)
	p := scenarioPrefix()
	s := newSettings()
	s.HTTPToken = token
	d := startDaemon(t, p, s)
	steady := p + "steady"
	e.run(t, steady, []string{"--idle"}, nil, nil)

	b := openBrowser(t, 1024, 800)
	b.do("open the dashboard", chromedp.Navigate("http://"+d.HTTPAddr()+"/"))
	b.waitFor("the login form", `form[action="/login"] input[name="token"]`, 20*time.Second)
	if ok, _ := b.eval(`location.pathname === "/login"`); !ok {
		t.Fatal("the dashboard without a token did not send the browser to /login")
	}
	b.login("wrong-" + token)
	b.waitFor("the wrong token said so", `#failed:not([hidden])`, 20*time.Second)
	b.screenshot("login-failed")
	b.login(token)
	b.waitFor("the stream is live with the cookie", `#live[data-live="on"]`, 20*time.Second)
	b.waitFor("the container is read with the cookie", card(steady), 30*time.Second)
	if ok, _ := b.eval(`document.cookie === ""`); !ok {
		t.Error("the session cookie is readable by scripts; want HttpOnly")
	}
	// The refused token's redirect is a page load, not a console error;
	// anything else failing (a 401 from the API) is.
	if bad := b.consoleErrors(); len(bad) > 0 {
		t.Errorf("console errors:\n%s", b.consoleDump(bad))
	}
}
