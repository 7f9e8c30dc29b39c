package gate

import (
	"errors"
	"fmt"
	"math"
	"path"
	"slices"
	"time"

	"github.com/hemostat/hemostat/sdk"
)

// Policy is what the gate enforces. The zero value allows nothing: no action
// is on the allowlist.
type Policy struct {
	// MinConfidence is the lowest analyzer confidence that may act; a
	// decision passes when its confidence is >= MinConfidence.
	MinConfidence float64
	// Actions is the allowlist of actions; empty means none is allowed.
	Actions []string
	// Protected lists container names, or path.Match globs over names,
	// that are never touched (hemostatd itself, its Redis).
	Protected []string
	// RequireOptIn limits the gate to containers labelled
	// hemostat.enable=true.
	RequireOptIn bool
	// DryRun lets allowed actions through flagged so that the caller
	// reports them without changing anything.
	DryRun bool
	// Backoff spaces consecutive actions on one container.
	Backoff Backoff
	// Cooldown, when > 0, replaces the backoff by a flat pause between two
	// actions on one container.
	Cooldown time.Duration
	// Breaker stops acting on a container that needed too many actions.
	Breaker Breaker
}

// Safety is the part of p a responder plugin enforces itself.
func (p Policy) Safety() sdk.SafetyPolicy {
	return sdk.SafetyPolicy{Protected: slices.Clone(p.Protected), Actions: slices.Clone(p.Actions), RequireOptIn: p.RequireOptIn}
}

// Backoff is an exponential delay between consecutive actions on one
// container: after the n-th consecutive action the next one waits
// min(Initial·2^(n-1), Max); after ResetAfter without any action the next
// one is immediate again. Initial <= 0 disables it.
type Backoff struct {
	Initial    time.Duration
	Max        time.Duration
	ResetAfter time.Duration
}

// Breaker escalates to a person, instead of acting, once MaxActions actions
// were taken on one container within the sliding Window. MaxActions <= 0 or
// Window <= 0 disables it.
type Breaker struct {
	MaxActions int
	Window     time.Duration
}

// DefaultPolicy is the policy of a HemoStat without configuration: restart
// and start only, confidence at least 0.7, Kubernetes' CrashLoopBackOff
// numbers, at most five actions per container and hour.
func DefaultPolicy() Policy {
	return Policy{
		MinConfidence: 0.7,
		Actions:       []string{sdk.ActionRestart, sdk.ActionStart},
		Backoff:       Backoff{Initial: 10 * time.Second, Max: 5 * time.Minute, ResetAfter: 10 * time.Minute},
		Breaker:       Breaker{MaxActions: 5, Window: time.Hour},
	}
}

// Validate reports every setting that cannot mean what its author wanted.
// New accepts any policy (see the field comments for how odd values are
// read); configuration loaders call Validate to tell the user.
func (p Policy) Validate() error {
	var errs []error
	if math.IsNaN(p.MinConfidence) || p.MinConfidence < 0 || p.MinConfidence > 1 {
		errs = append(errs, fmt.Errorf("minimum confidence %v is outside [0, 1]", p.MinConfidence))
	}
	for i, a := range p.Actions {
		if a == "" {
			errs = append(errs, fmt.Errorf("action %d of the allowlist is empty", i+1))
		}
	}
	for _, pattern := range p.Protected {
		if pattern == "" {
			errs = append(errs, errors.New("a protected container name is empty"))
			continue
		}
		if _, err := path.Match(pattern, ""); err != nil {
			errs = append(errs, fmt.Errorf("protected pattern %q is not a valid glob: %w", pattern, err))
		}
	}
	errs = append(errs, p.Backoff.validate(p.Cooldown)...)
	if p.Cooldown < 0 {
		errs = append(errs, fmt.Errorf("cooldown %v is negative", p.Cooldown))
	}
	errs = append(errs, p.Breaker.validate()...)
	return errors.Join(errs...)
}

func (b Backoff) validate(cooldown time.Duration) []error {
	var errs []error
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"initial", b.Initial}, {"max", b.Max}, {"reset_after", b.ResetAfter}} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("backoff %s %v is negative", d.name, d.v))
		}
	}
	if len(errs) > 0 || b.Initial == 0 || cooldown > 0 {
		return errs
	}
	if b.Max < b.Initial {
		errs = append(errs, fmt.Errorf("backoff max %v is shorter than initial %v", b.Max, b.Initial))
	}
	if b.ResetAfter < b.Max {
		errs = append(errs, fmt.Errorf("backoff reset_after %v is shorter than max %v: the backoff would reset before its longest delay ends", b.ResetAfter, b.Max))
	}
	return errs
}

func (b Breaker) validate() []error {
	var errs []error
	if b.MaxActions < 0 {
		errs = append(errs, fmt.Errorf("circuit breaker max_actions %d is negative", b.MaxActions))
	}
	if b.Window < 0 {
		errs = append(errs, fmt.Errorf("circuit breaker window %v is negative", b.Window))
	}
	if b.MaxActions > 0 && b.Window == 0 {
		errs = append(errs, fmt.Errorf("circuit breaker max_actions %d needs a window", b.MaxActions))
	}
	return errs
}

// enabled says whether the breaker can ever open.
func (b Breaker) enabled() bool { return b.MaxActions > 0 && b.Window > 0 }

// enabled says whether the backoff delays anything.
func (b Backoff) enabled() bool { return b.Initial > 0 }

// ceiling is the longest delay; a Max below Initial is read as Initial.
func (b Backoff) ceiling() time.Duration { return max(b.Max, b.Initial) }

// resetAfter is the calm after which the next action is immediate again.
// It is never shorter than the longest delay, so that a misconfigured
// ResetAfter cannot cancel the backoff it is meant to end.
func (b Backoff) resetAfter() time.Duration { return max(b.ResetAfter, b.ceiling()) }

// delay is the pause after the n-th consecutive action (n >= 1):
// min(Initial·2^(n-1), ceiling), computed without overflow.
func (b Backoff) delay(n int) time.Duration {
	limit := b.ceiling()
	d := b.Initial
	for i := 1; i < n && d < limit; i++ {
		if d > limit/2 {
			return limit
		}
		d *= 2
	}
	return min(d, limit)
}
