package gate

import (
	"strings"
	"testing"
	"time"
)

func TestDefaultPolicy(t *testing.T) {
	p := DefaultPolicy()
	if err := p.Validate(); err != nil {
		t.Fatalf("DefaultPolicy().Validate() = %v", err)
	}
	want := Backoff{Initial: 10 * time.Second, Max: 5 * time.Minute, ResetAfter: 10 * time.Minute}
	if p.Backoff != want {
		t.Errorf("Backoff = %+v, want CrashLoopBackOff's %+v", p.Backoff, want)
	}
	if p.Breaker != (Breaker{MaxActions: 5, Window: time.Hour}) {
		t.Errorf("Breaker = %+v, want 5 per 1h", p.Breaker)
	}
	if p.MinConfidence != 0.7 || p.DryRun || p.RequireOptIn || p.Cooldown != 0 {
		t.Errorf("DefaultPolicy() = %+v", p)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Policy)
		want   []string // substrings of the error; none means valid
	}{
		{"default", func(*Policy) {}, nil},
		{"no actions is valid", func(p *Policy) { p.Actions = nil }, nil},
		{"backoff off", func(p *Policy) { p.Backoff = Backoff{} }, nil},
		{"breaker off", func(p *Policy) { p.Breaker = Breaker{} }, nil},
		{"cooldown ignores backoff shape", func(p *Policy) { p.Cooldown = time.Minute; p.Backoff.ResetAfter = time.Second }, nil},
		{"confidence above 1", func(p *Policy) { p.MinConfidence = 1.5 }, []string{"minimum confidence 1.5 is outside [0, 1]"}},
		{"confidence below 0", func(p *Policy) { p.MinConfidence = -0.1 }, []string{"minimum confidence -0.1 is outside [0, 1]"}},
		{"empty action", func(p *Policy) { p.Actions = []string{"restart", ""} }, []string{"action 2 of the allowlist is empty"}},
		{"bad glob", func(p *Policy) { p.Protected = []string{"redis["} }, []string{`protected pattern "redis[" is not a valid glob`}},
		{"empty protected", func(p *Policy) { p.Protected = []string{""} }, []string{"a protected container name is empty"}},
		{"negative initial", func(p *Policy) { p.Backoff.Initial = -time.Second }, []string{"backoff initial -1s is negative"}},
		{"max below initial", func(p *Policy) { p.Backoff.Max = time.Second }, []string{"backoff max 1s is shorter than initial 10s"}},
		{"reset below max", func(p *Policy) { p.Backoff.ResetAfter = time.Minute }, []string{"backoff reset_after 1m0s is shorter than max 5m0s"}},
		{"negative cooldown", func(p *Policy) { p.Cooldown = -time.Second }, []string{"cooldown -1s is negative"}},
		{"breaker without window", func(p *Policy) { p.Breaker.Window = 0 }, []string{"circuit breaker max_actions 5 needs a window"}},
		{"negative breaker", func(p *Policy) { p.Breaker = Breaker{MaxActions: -1, Window: -time.Second} }, []string{"max_actions -1 is negative", "window -1s is negative"}},
		{"all errors reported", func(p *Policy) { p.MinConfidence = 2; p.Cooldown = -1 }, []string{"minimum confidence 2", "cooldown -1ns"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := DefaultPolicy()
			tt.change(&p)
			err := p.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestBackoffDelay(t *testing.T) {
	crashLoop := DefaultPolicy().Backoff
	tests := []struct {
		name string
		b    Backoff
		n    int
		want time.Duration
	}{
		{"1st", crashLoop, 1, 10 * time.Second},
		{"2nd", crashLoop, 2, 20 * time.Second},
		{"3rd", crashLoop, 3, 40 * time.Second},
		{"4th", crashLoop, 4, 80 * time.Second},
		{"5th", crashLoop, 5, 160 * time.Second},
		{"6th capped", crashLoop, 6, 5 * time.Minute},
		{"huge n capped without overflow", crashLoop, 1 << 30, 5 * time.Minute},
		{"max near overflow", Backoff{Initial: time.Second, Max: 1<<63 - 1}, 200, 1<<63 - 1},
		{"max below initial reads as initial", Backoff{Initial: time.Minute, Max: time.Second}, 3, time.Minute},
		{"no max reads as initial", Backoff{Initial: time.Minute}, 3, time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.b.delay(tt.n); got != tt.want {
				t.Errorf("delay(%d) = %v, want %v", tt.n, got, tt.want)
			}
		})
	}
}
