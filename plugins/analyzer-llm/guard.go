package llm

import (
	"fmt"
	"sync"
	"time"
)

// guard decides whether the model may be called now: the circuit breaker,
// a provider's Retry-After pause and the budget. It is safe for concurrent
// use.
type guard struct {
	mu sync.Mutex

	breakerFailures int
	breakerCooldown time.Duration
	failures        int       // consecutive failures
	openUntil       time.Time // breaker open until; zero when closed
	probing         bool      // half-open: one call is testing the model

	pausedUntil time.Time // a 429's Retry-After

	maxCallsPerHour int
	calls           []time.Time // call start times within the last hour
	tokensPerDay    int
	tokenDay        time.Time // UTC day tokensUsed counts
	tokensUsed      int

	// budgetSaid is set once the analyzer has logged that a budget is
	// spent, so that it says so once, not on every alert.
	budgetSaid bool
}

func newGuard(s settings) *guard {
	return &guard{
		breakerFailures: s.BreakerFailures, breakerCooldown: time.Duration(s.BreakerCooldown),
		maxCallsPerHour: s.MaxCallsPerHour, tokensPerDay: s.TokensPerDay,
	}
}

// refusal says why the model is not called now.
type refusal struct {
	reason string
	// budget is true for a spent budget; announce is true the first time
	// in a row a budget refusal is given.
	budget, announce bool
}

// admit reserves a call at now, or says why not.
func (g *guard) admit(now time.Time) *refusal {
	g.mu.Lock()
	defer g.mu.Unlock()
	if now.Before(g.pausedUntil) {
		return &refusal{reason: fmt.Sprintf("paused by the provider's rate limit until %s", g.pausedUntil.UTC().Format(time.TimeOnly))}
	}
	if !g.openUntil.IsZero() {
		if now.Before(g.openUntil) || g.probing {
			return &refusal{reason: fmt.Sprintf("circuit breaker open after %d failed calls in a row", g.failures)}
		}
		g.probing = true // half-open: this call tests the model
	}
	hourAgo := now.Add(-time.Hour)
	i := 0
	for i < len(g.calls) && !g.calls[i].After(hourAgo) {
		i++
	}
	g.calls = g.calls[i:]
	if day := now.UTC().Truncate(24 * time.Hour); !day.Equal(g.tokenDay) {
		g.tokenDay, g.tokensUsed = day, 0
	}
	var r *refusal
	switch {
	case len(g.calls) >= g.maxCallsPerHour:
		r = &refusal{reason: fmt.Sprintf("call budget spent: %d calls in the last hour (max_calls_per_hour)", len(g.calls)), budget: true}
	case g.tokensPerDay > 0 && g.tokensUsed >= g.tokensPerDay:
		r = &refusal{reason: fmt.Sprintf("token budget spent: %d tokens today (tokens_per_day)", g.tokensUsed), budget: true}
	}
	if r != nil {
		g.probing = false
		r.announce = !g.budgetSaid
		g.budgetSaid = true
		return r
	}
	g.budgetSaid = false
	g.calls = append(g.calls, now)
	return nil
}

// done records the outcome of an admitted call.
func (g *guard) done(now time.Time, tokens int, err *callError) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.tokensUsed += tokens
	g.probing = false
	switch {
	case err == nil || !err.countsAgainstBreaker():
		if err == nil || err.Kind == failReply {
			g.failures, g.openUntil = 0, time.Time{}
		}
		if err != nil && err.Kind == failRateLimited {
			pause := err.RetryAfter
			if pause <= 0 {
				pause = 30 * time.Second
			}
			pause = min(pause, 10*time.Minute)
			g.pausedUntil = now.Add(pause)
		}
	default:
		g.failures++
		if g.failures >= g.breakerFailures {
			g.openUntil = now.Add(g.breakerCooldown)
		}
	}
}

// abandon gives back an admitted call that never reached the model.
func (g *guard) abandon() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.probing = false
	if n := len(g.calls); n > 0 {
		g.calls = g.calls[:n-1]
	}
}
