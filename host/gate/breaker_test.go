package gate

import (
	"testing"
	"time"
)

// TestBreakerSlidingWindow walks one container through two openings of a
// 3-per-hour breaker, with the backoff off so only the breaker speaks.
func TestBreakerSlidingWindow(t *testing.T) {
	p := DefaultPolicy()
	p.Backoff = Backoff{}
	p.Breaker = Breaker{MaxActions: 3, Window: time.Hour}
	g, clock := newTestGate(p)

	type step struct {
		at        time.Duration // since epoch
		record    bool          // act (Record) instead of checking
		want      Outcome
		wantFirst bool
	}
	steps := []step{
		{at: 0, record: true},
		{at: 10 * time.Minute, record: true},
		{at: 19 * time.Minute, want: Allow},
		{at: 20 * time.Minute, record: true},
		{at: 20 * time.Minute, want: Escalate, wantFirst: true},
		{at: 21 * time.Minute, want: Escalate},
		{at: 59*time.Minute + 59*time.Second, want: Escalate},
		{at: 60 * time.Minute, want: Allow}, // the action at 0 left the window
		{at: 61 * time.Minute, record: true},
		{at: 61 * time.Minute, want: Escalate, wantFirst: true}, // a new opening is announced again
		{at: 65 * time.Minute, want: Escalate},
		{at: 70 * time.Minute, want: Allow},
	}
	for _, s := range steps {
		clock.Advance(s.at - clock.elapsed())
		if s.record {
			g.Record("api", "restart", "success")
			continue
		}
		v := g.Check(restart("api"))
		if v.Outcome != s.want || v.FirstEscalation != s.wantFirst {
			t.Errorf("at %v: %v first=%v (%s), want %v first=%v", s.at, v.Outcome, v.FirstEscalation, v.Reason, s.want, s.wantFirst)
		}
		if s.want == Escalate && v.Status != "rejected" {
			t.Errorf("at %v: status %q, want rejected", s.at, v.Status)
		}
	}
}

// TestEscalationAnnouncedOnce: whatever the action asked for, an open
// breaker is announced once per opening and per container.
func TestEscalationAnnouncedOnce(t *testing.T) {
	g, clock := newTestGate(DefaultPolicy())
	for _, name := range []string{"api", "db"} {
		for range 5 {
			g.Record(name, "restart", "failed")
			clock.Advance(time.Second)
		}
	}
	for _, name := range []string{"api", "db"} {
		firsts := 0
		for _, action := range []string{"restart", "start", "restart", "start"} {
			v := g.Check(Request{Container: name, Action: action, Confidence: 1})
			if v.Outcome != Escalate {
				t.Fatalf("%s %s: %v, want escalate", name, action, v.Outcome)
			}
			if v.FirstEscalation {
				firsts++
			}
		}
		if firsts != 1 {
			t.Errorf("%s: %d first escalations, want 1", name, firsts)
		}
	}
	want := "circuit breaker open: 5 actions in the last 1h0m0s; escalating to a person"
	if v := g.Check(restart("api")); v.Reason != want {
		t.Errorf("Reason = %q, want %q", v.Reason, want)
	}
}
