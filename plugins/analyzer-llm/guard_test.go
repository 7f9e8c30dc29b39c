package llm

import (
	"net"
	"strings"
	"testing"
	"time"

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

// TestRetryAfterPauses: a 429's Retry-After pauses the analyzer, which
// abstains without calling until it is over.
func TestRetryAfterPauses(t *testing.T) {
	for _, provider := range []string{ProviderOpenAI, ProviderAnthropic} {
		t.Run(provider, func(t *testing.T) {
			f := newFakeModel(t, provider, func(n int, _ map[string]any) fakeAnswer {
				if n == 0 {
					return fakeAnswer{status: 429, errType: "rate_limit_error", errMsg: "slow down", retryAfter: "3"}
				}
				return fakeAnswer{text: goodReply}
			})
			a := newTestAnalyzer(t, f, nil)
			clock := time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)
			a.now = func() time.Time { return clock }
			analyze(t, a, crashAlert("api"), 5*time.Second)
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
