package gate

import (
	"testing"
	"time"
)

// noBreaker is the default policy with the breaker off, to see the backoff
// alone.
func noBreaker() Policy {
	p := DefaultPolicy()
	p.Breaker = Breaker{}
	return p
}

// TestBackoffSequence acts as soon as allowed, eight times in a row, and
// checks each delay one second before and at the moment it ends.
func TestBackoffSequence(t *testing.T) {
	g, clock := newTestGate(noBreaker())
	delays := []time.Duration{10, 20, 40, 80, 160, 300, 300, 300}
	for i, d := range delays {
		d *= time.Second
		g.Record("api", "restart", "failed")
		last := clock.Now()
		clock.Advance(d - time.Second)
		v := g.Check(restart("api"))
		if v.Outcome != Defer || v.Status != "deferred" || !v.RetryAt.Equal(last.Add(d)) {
			t.Fatalf("after action %d, %v later: %+v, want deferred until %v", i+1, d-time.Second, v, last.Add(d))
		}
		clock.Advance(time.Second)
		if v := g.Check(restart("api")); v.Outcome != Allow {
			t.Fatalf("after action %d, %v later: %+v, want allow", i+1, d, v)
		}
	}
}

func TestBackoffReasonText(t *testing.T) {
	g, clock := newTestGate(noBreaker())
	for _, d := range []time.Duration{10 * time.Second, 20 * time.Second} {
		g.Record("api", "restart", "success")
		clock.Advance(d)
	}
	g.Record("api", "restart", "success") // 3rd, at 10:30:30: next at 10:31:10
	clock.Advance(200 * time.Millisecond)
	want := "backoff: 3rd action in a row; next allowed at 10:31:10 (in 40s)"
	if v := g.Check(restart("api")); v.Reason != want {
		t.Errorf("Reason = %q, want %q", v.Reason, want)
	}
}

func TestBackoffReset(t *testing.T) {
	tests := []struct {
		name      string
		calm      time.Duration // after the 4th action, whose delay is 80s
		wantDelay time.Duration // of the action taken after the calm
	}{
		{"calm shorter than reset keeps the streak", 10*time.Minute - time.Second, 160 * time.Second},
		{"10 min of calm resets", 10 * time.Minute, 10 * time.Second},
		{"longer calm resets", time.Hour, 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, clock := newTestGate(noBreaker())
			for _, d := range []time.Duration{10, 20, 40} {
				g.Record("api", "restart", "success")
				clock.Advance(d * time.Second)
			}
			g.Record("api", "restart", "success")
			clock.Advance(tt.calm)
			if v := g.Check(restart("api")); v.Outcome != Allow {
				t.Fatalf("after %v of calm: %+v, want allow", tt.calm, v)
			}
			g.Record("api", "restart", "success")
			if v := g.Check(restart("api")); v.Outcome != Defer || v.RetryAt.Sub(clock.Now()) != tt.wantDelay {
				t.Errorf("next delay: %+v, want deferred by %v", v, tt.wantDelay)
			}
		})
	}
}

func TestCooldown(t *testing.T) {
	p := noBreaker()
	p.Cooldown = time.Minute
	g, clock := newTestGate(p)
	for i := range 5 {
		if v := g.Check(restart("api")); v.Outcome != Allow {
			t.Fatalf("action %d: %+v, want allow", i+1, v)
		}
		g.Record("api", "restart", "failed")
		clock.Advance(20 * time.Second)
		v := g.Check(restart("api"))
		if v.Outcome != Defer || !v.RetryAt.Equal(clock.Now().Add(40*time.Second)) {
			t.Fatalf("action %d: %+v, want a flat 1m cooldown", i+1, v)
		}
		if i == 0 {
			want := "cooldown 1m0s: last action 20s ago; next allowed at 10:31:00 (in 40s)"
			if v.Reason != want {
				t.Errorf("Reason = %q, want %q", v.Reason, want)
			}
		}
		clock.Advance(40 * time.Second)
	}
}

// TestRecordStatuses: an action that changed something counts, whatever its
// result; a status saying nothing was done does not.
func TestRecordStatuses(t *testing.T) {
	tests := []struct {
		status string
		counts bool
	}{
		{"success", true},
		{"failed", true},
		{"timeout", true}, // unknown statuses count: the responder may have acted
		{"dry_run", false},
		{"not_applicable", false},
		{"rejected", false},
		{"skipped", false},
		{"deferred", false},
	}
	for _, tt := range tests {
		t.Run(tt.status, func(t *testing.T) {
			g, _ := newTestGate(DefaultPolicy())
			g.Record("api", "restart", tt.status)
			want := Allow
			if tt.counts {
				want = Defer
			}
			if v := g.Check(restart("api")); v.Outcome != want {
				t.Errorf("after Record(%q): %v, want %v", tt.status, v.Outcome, want)
			}
		})
	}
}

func TestBackoffIsPerContainer(t *testing.T) {
	g, _ := newTestGate(DefaultPolicy())
	g.Record("api", "restart", "success")
	g.Record("", "restart", "success") // ignored, not a container
	if v := g.Check(restart("api")); v.Outcome != Defer {
		t.Errorf("api: %v, want defer", v.Outcome)
	}
	if v := g.Check(restart("db")); v.Outcome != Allow {
		t.Errorf("db: %v, want allow", v.Outcome)
	}
}
