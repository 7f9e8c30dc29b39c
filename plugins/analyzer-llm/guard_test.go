package llm

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hemostat/hemostat/sdk"
)

// refusedURL is a loopback address nothing listens on.
func refusedURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + "/v1"
}

// TestBreakerOpensAndSkipsTheModel: after breaker_failures refused
// connections the model is not called until the cooldown is over; then one
// call tests it and a good answer closes the breaker.
func TestBreakerOpensAndSkipsTheModel(t *testing.T) {
	f := newFakeModel(t, ProviderOpenAI, always(fakeAnswer{text: goodReply}))
	a := newTestAnalyzer(t, f, map[string]any{"base_url": refusedURL(t), "breaker_failures": 2, "reuse_window": "0s"})
	clock := time.Now()
	a.now = func() time.Time { return clock }
	for i, want := range []string{"unreachable", "unreachable", "circuit breaker open after 2 failed calls"} {
		if d := analyze(t, a, crashAlert("api"), 5*time.Second); d.Verdict != sdk.VerdictAbstain || !strings.Contains(d.Reason, want) {
			t.Fatalf("call %d: decision = %+v; want abstain with %q", i, d, want)
		}
	}
	// The cooldown passes and the model is back: one probe closes it.
	clock = clock.Add(2 * time.Minute)
	c := a.cur.Load()
	c.provider = newOpenAI(withBaseURL(c.settings, f.baseURL()), a.httpClient)
	if d := analyze(t, a, crashAlert("api"), 5*time.Second); d.Verdict != sdk.VerdictRemediate {
		t.Fatalf("after the cooldown: %+v; want the model's decision", d)
	}
	if d := analyze(t, a, crashAlert("api"), 5*time.Second); d.Verdict != sdk.VerdictRemediate {
		t.Fatalf("breaker closed: %+v", d)
	}
}

func withBaseURL(s settings, u string) settings { s.BaseURL = u; return s }

// TestRetryAfterPauses: a 429's Retry-After, in seconds or as an HTTP
// date, pauses the analyzer, which abstains without calling until it is
// over.
func TestRetryAfterPauses(t *testing.T) {
	start := time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)
	for _, provider := range []string{ProviderOpenAI, ProviderAnthropic} {
		for _, ra := range []struct{ name, value string }{
			{"seconds", "3"},
			{"HTTP date", start.Add(3 * time.Second).Format(http.TimeFormat)},
		} {
			t.Run(provider+"/"+ra.name, func(t *testing.T) {
				f := newFakeModel(t, provider, func(n int, _ map[string]any) fakeAnswer {
					if n == 0 {
						return fakeAnswer{status: 429, errType: "rate_limit_error", errMsg: "slow down", retryAfter: ra.value}
					}
					return fakeAnswer{text: goodReply}
				})
				a := newTestAnalyzer(t, f, nil)
				clock := start
				setClock(a, func() time.Time { return clock })
				if d := analyze(t, a, crashAlert("api"), 5*time.Second); !strings.Contains(d.Reason, "rate_limited (HTTP 429)") {
					t.Fatalf("the 429: %+v", d)
				}
				clock = clock.Add(2 * time.Second)
				if d := analyze(t, a, crashAlert("api"), 5*time.Second); !strings.Contains(d.Reason, "paused by the provider's rate limit until 01:00:03") {
					t.Fatalf("inside Retry-After: %+v", d)
				}
				if n := len(f.requests()); n != 1 {
					t.Fatalf("%d requests; the pause must keep the model from being called", n)
				}
				clock = clock.Add(2 * time.Second)
				if d := analyze(t, a, crashAlert("api"), 5*time.Second); d.Verdict != sdk.VerdictRemediate {
					t.Fatalf("after Retry-After: %+v", d)
				}
			})
		}
	}
}

// TestBreakerOpenSkipsCalls: once breaker_failures calls in a row failed
// (500s here), later alerts abstain at once and no request reaches the
// model until the cooldown is over.
func TestBreakerOpenSkipsCalls(t *testing.T) {
	for _, provider := range []string{ProviderOpenAI, ProviderAnthropic} {
		t.Run(provider, func(t *testing.T) {
			f := newFakeModel(t, provider, func(n int, _ map[string]any) fakeAnswer {
				if n < 2 {
					return fakeAnswer{status: 500, errType: "api_error", errMsg: "overloaded"}
				}
				return fakeAnswer{text: goodReply}
			})
			a := newTestAnalyzer(t, f, map[string]any{"breaker_failures": 2, "breaker_cooldown": "1m", "reuse_window": "0s"})
			clock := time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)
			setClock(a, func() time.Time { return clock })
			for range 2 {
				analyze(t, a, crashAlert("api"), 5*time.Second)
			}
			for i := range 5 {
				clock = clock.Add(10 * time.Second)
				d := analyze(t, a, crashAlert(fmt.Sprintf("c%d", i)), 5*time.Second)
				if d.Verdict != sdk.VerdictAbstain || !strings.Contains(d.Reason, "model not called: circuit breaker open after 2 failed calls") {
					t.Fatalf("alert %d while open: %+v", i, d)
				}
			}
			if n := len(f.requests()); n != 2 {
				t.Fatalf("%d requests reached the model; want the 2 that failed, none while the breaker is open", n)
			}
			clock = clock.Add(time.Minute)
			if d := analyze(t, a, crashAlert("api"), 5*time.Second); d.Verdict != sdk.VerdictRemediate {
				t.Fatalf("after the cooldown: %+v", d)
			}
		})
	}
}

// TestBudgetSaidOnce: past the budget every alert abstains with the
// reason, but the log says so once, and again only after the budget had
// freed up and was spent anew.
func TestBudgetSaidOnce(t *testing.T) {
	f := newFakeModel(t, ProviderOpenAI, always(fakeAnswer{text: goodReply}))
	a := newTestAnalyzer(t, f, map[string]any{"max_calls_per_hour": 1, "reuse_window": "0s"})
	var logs bytes.Buffer
	a.log = hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Warn})
	clock := time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)
	a.now = func() time.Time { return clock }
	spell := func() {
		t.Helper()
		if d := analyze(t, a, crashAlert("api"), 5*time.Second); d.Verdict != sdk.VerdictRemediate {
			t.Fatalf("within budget: %+v", d)
		}
		for i := range 4 {
			clock = clock.Add(time.Minute)
			if d := analyze(t, a, crashAlert("api"), 5*time.Second); !strings.Contains(d.Reason, "call budget spent: 1 calls in the last hour") {
				t.Fatalf("past the budget, alert %d: %+v", i, d)
			}
		}
	}
	spell()
	if n := strings.Count(logs.String(), "abstaining until it frees up"); n != 1 {
		t.Fatalf("the log says the budget is spent %d times, want once:\n%s", n, logs.String())
	}
	clock = clock.Add(time.Hour)
	spell()
	if n := strings.Count(logs.String(), "abstaining until it frees up"); n != 2 {
		t.Fatalf("after the budget freed up and was spent again the log says so %d times in all, want 2:\n%s", n, logs.String())
	}
	if n := len(f.requests()); n != 2 {
		t.Fatalf("%d requests; want one per hour", n)
	}
}

// TestBudget: past max_calls_per_hour or tokens_per_day the analyzer
// abstains and says why; the hour window moves on.
func TestBudget(t *testing.T) {
	f := newFakeModel(t, ProviderOpenAI, always(fakeAnswer{text: goodReply})) // 340 tokens a call
	for _, tc := range []struct {
		name  string
		extra map[string]any
		want  string
	}{
		{"calls", map[string]any{"max_calls_per_hour": 2}, "call budget spent: 2 calls in the last hour"},
		{"tokens", map[string]any{"tokens_per_day": 600}, "token budget spent: 680 tokens today"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.extra["reuse_window"] = "0s"
			a := newTestAnalyzer(t, f, tc.extra)
			clock := time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)
			a.now = func() time.Time { return clock }
			for range 2 {
				if d := analyze(t, a, crashAlert("api"), 5*time.Second); d.Verdict != sdk.VerdictRemediate {
					t.Fatalf("within budget: %+v", d)
				}
			}
			if d := analyze(t, a, crashAlert("api"), 5*time.Second); !strings.Contains(d.Reason, tc.want) {
				t.Fatalf("past the budget: %+v; want %q", d, tc.want)
			}
			clock = clock.Add(24 * time.Hour)
			if d := analyze(t, a, crashAlert("api"), 5*time.Second); d.Verdict != sdk.VerdictRemediate {
				t.Fatalf("a day later: %+v", d)
			}
		})
	}
}

// TestReuseWindow: an identical alert of the same container within the
// window reuses the decision; another alert, or another container, asks.
func TestReuseWindow(t *testing.T) {
	f := newFakeModel(t, ProviderAnthropic, always(fakeAnswer{text: goodReply}))
	a := newTestAnalyzer(t, f, map[string]any{"reuse_window": "1m"})
	clock := time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)
	a.now = func() time.Time { return clock }
	oom := crashAlert("api")
	oom.Alert.Issues = []string{"OOM killed"}
	for i, step := range []struct {
		req     sdk.AnalyzeRequest
		advance time.Duration
		calls   int
	}{
		{crashAlert("api"), 0, 1},
		{crashAlert("api"), 30 * time.Second, 1}, // reused
		{crashAlert("web"), 0, 2},                // another container
		{oom, 0, 3},                              // another alert
		{crashAlert("api"), 2 * time.Minute, 4},  // past the window
	} {
		clock = clock.Add(step.advance)
		if d := analyze(t, a, step.req, 5*time.Second); d.Verdict != sdk.VerdictRemediate {
			t.Fatalf("step %d: %+v", i, d)
		}
		if n := len(f.requests()); n != step.calls {
			t.Fatalf("step %d: %d calls to the model, want %d", i, n, step.calls)
		}
	}
}

// TestShadowMode: the model's verdict rides along as a shadow; the
// analyzer abstains so that the next one decides.
func TestShadowMode(t *testing.T) {
	f := newFakeModel(t, ProviderOpenAI, always(fakeAnswer{text: goodReply}))
	a := newTestAnalyzer(t, f, map[string]any{"mode": "shadow"})
	d := analyze(t, a, crashAlert("api"), 5*time.Second)
	if d.Verdict != sdk.VerdictAbstain || d.Shadow == nil || d.Shadow.Verdict != sdk.VerdictRemediate || d.Shadow.Action != "restart" {
		t.Fatalf("decision = %+v (shadow %+v); want abstain carrying the model's restart", d, d.Shadow)
	}
}
