package gate

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// crashLoop plays the responder role against a container that fails every
// second for 30 minutes of fake time: each second it hands the gate the
// requests that came due and the new alert's request, acts when allowed,
// parks when deferred and publishes an escalation only when told it is the
// first. It returns the delays between consecutive actions (the first
// counted from the first failure), the number of escalations published and
// a transcript of every decision that changed something.
func crashLoop(t *testing.T, p Policy) (delays []time.Duration, published int, transcript string) {
	t.Helper()
	g, clock := newTestGate(p)
	var (
		log      strings.Builder
		last     time.Duration
		acted    bool
		deferred bool // a deferral was already logged since the last action
		escal    int
	)
	handle := func(r Request) {
		v := g.Check(r)
		now := clock.elapsed()
		switch v.Outcome {
		case Allow:
			g.Record(r.Container, r.Action, "success")
			if acted {
				delays = append(delays, now-last)
			} else {
				delays = append(delays, now)
			}
			last, acted, deferred = now, true, false
			fmt.Fprintf(&log, "%6v  allow     %s\n", now, v.Reason)
		case Defer:
			retryAt := g.Defer(r)
			if !retryAt.Equal(v.RetryAt) {
				t.Fatalf("at %v: Defer parked until %v, Check said %v", now, retryAt, v.RetryAt)
			}
			if !deferred {
				fmt.Fprintf(&log, "%6v  defer     %s\n", now, v.Reason)
				deferred = true
			}
		case Escalate:
			escal++
			if v.FirstEscalation {
				published++
				fmt.Fprintf(&log, "%6v  escalate  %s\n", now, v.Reason)
			}
		default:
			t.Fatalf("at %v: unexpected %+v", now, v)
		}
	}
	for range 30 * 60 {
		for _, r := range g.Due() {
			handle(r) // the container is still sick: re-check
		}
		handle(Request{Container: "api", Action: "restart", Confidence: 0.9})
		clock.Advance(time.Second)
	}
	fmt.Fprintf(&log, "after %v: %s, %s published, %s escalated\n",
		clock.elapsed(), count(len(delays), "action"), count(published, "escalation"), count(escal, "request"))
	return delays, published, log.String()
}

func TestCrashLoop(t *testing.T) {
	tests := []struct {
		name       string
		policy     func() Policy
		wantDelays []time.Duration // in seconds
		wantPub    int
	}{
		{
			// The breaker opens after 5 actions and one escalation is
			// published, however many alerts keep coming.
			name:       "crashloop",
			policy:     DefaultPolicy,
			wantDelays: []time.Duration{0, 10, 20, 40, 80},
			wantPub:    1,
		},
		{
			// Without the breaker, the CrashLoopBackOff ladder up to its cap.
			name:       "crashloop_no_breaker",
			policy:     noBreaker,
			wantDelays: []time.Duration{0, 10, 20, 40, 80, 160, 300, 300, 300, 300},
			wantPub:    0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			delays, published, transcript := crashLoop(t, tt.policy())
			want := make([]time.Duration, len(tt.wantDelays))
			for i, d := range tt.wantDelays {
				want[i] = d * time.Second
			}
			if !slices.Equal(delays, want) {
				t.Errorf("delays between actions = %v, want %v", delays, want)
			}
			if published != tt.wantPub {
				t.Errorf("%d escalations published, want %d", published, tt.wantPub)
			}
			golden(t, tt.name, transcript)
		})
	}
}

// golden compares got with testdata/<name>.golden, or rewrites the file
// under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	file := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("transcript differs from %s (run with -update to accept)\n got:\n%s\nwant:\n%s", file, got, want)
	}
}
