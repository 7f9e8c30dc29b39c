package gate

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/hemostat/hemostat/sdk"
)

// sweepEvery is how often the gate looks for containers it may forget. A
// container's state is also dropped whenever it is found stale on use.
const sweepEvery = time.Minute

// Gate decides, per container, whether a remediation may run now. It is
// safe for concurrent use.
//
// Check does not record anything: the caller acts on an Allow and then
// calls Record. Between the two the caller must not check the same
// container again, or two alerts could both be allowed; the responder role
// handles one container's requests in order.
type Gate struct {
	now func() time.Time

	mu sync.Mutex
	// policy, rules and retention change only in SetPolicy (a config
	// reload), under mu.
	policy    Policy
	rules     rules
	retention time.Duration
	states    map[string]*containerState
	parked    map[string]parkedRequest
	lastSweep time.Time
}

// New returns a gate enforcing p, reading the time from now (time.Now in
// production, a fake clock in tests). p is copied.
func New(p Policy, now func() time.Time) *Gate {
	if now == nil {
		now = time.Now
	}
	p.Actions = slices.Clone(p.Actions)
	p.Protected = slices.Clone(p.Protected)
	return &Gate{
		policy:    p,
		rules:     newRules(p),
		now:       now,
		retention: retention(&p),
		states:    make(map[string]*containerState),
		parked:    make(map[string]parkedRequest),
	}
}

// SetPolicy makes the gate enforce p from now on, as a config reload does.
// What the gate knows of each container — its actions, backoff step,
// breaker and parked request — is kept and judged by the new policy.
func (g *Gate) SetPolicy(p Policy) {
	p.Actions = slices.Clone(p.Actions)
	p.Protected = slices.Clone(p.Protected)
	g.mu.Lock()
	defer g.mu.Unlock()
	g.policy, g.rules, g.retention = p, newRules(p), retention(&p)
}

// Policy returns the policy the gate enforces.
func (g *Gate) Policy() Policy {
	g.mu.Lock()
	defer g.mu.Unlock()
	p := g.policy
	p.Actions = slices.Clone(p.Actions)
	p.Protected = slices.Clone(p.Protected)
	return p
}

// Check decides what to do with r now, applying the rules in the order the
// package documentation gives. It records no action; the only thing it
// remembers is that an open breaker has been announced (FirstEscalation).
func (g *Gate) Check(r Request) Verdict {
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	if v, refused := g.rules.check(r); refused {
		return v
	}
	g.sweep(now)
	if st := g.state(r.Container, now); st != nil {
		if v, stop := g.checkBreaker(st, r, now); stop {
			return v
		}
		if v, stop := g.checkBackoff(st, now); stop {
			return v
		}
	}
	if g.policy.DryRun {
		return allowed(fmt.Sprintf("dry run: %s of %s is allowed but will not be carried out", r.Action, r.Container), true)
	}
	return allowed(fmt.Sprintf("%s of %s is allowed", r.Action, r.Container), false)
}

func (g *Gate) checkBreaker(st *containerState, r Request, now time.Time) (Verdict, bool) {
	b := g.policy.Breaker
	if !b.enabled() {
		return Verdict{}, false
	}
	st.prune(b.Window, now)
	if !st.breakerOpen(b) {
		return Verdict{}, false
	}
	newest := st.recent[len(st.recent)-1]
	first := !st.escalatedFor.Equal(newest)
	st.escalatedFor = newest
	reason := fmt.Sprintf("circuit breaker open: %s in the last %v; escalating to a person", count(len(st.recent), "action"), b.Window)
	return escalated(reason, first), true
}

func (g *Gate) checkBackoff(st *containerState, now time.Time) (Verdict, bool) {
	next := st.nextAllowed(&g.policy, now)
	if !now.Before(next) {
		return Verdict{}, false
	}
	wait := fmt.Sprintf("next allowed at %s (in %v)", formatAt(next, now), roundUp(next.Sub(now)))
	if g.policy.Cooldown > 0 {
		ago := now.Sub(st.lastAt).Truncate(time.Second)
		return deferred(fmt.Sprintf("cooldown %v: last action %v ago; %s", g.policy.Cooldown, ago, wait), next), true
	}
	return deferred(fmt.Sprintf("backoff: %s action in a row; %s", ordinal(st.streak), wait), next), true
}

// Record notes that the responder acted on container. Success and failure
// both count towards the backoff and the breaker: a failed restart still
// disturbed the container. Statuses that mean nothing was changed — dry
// run, not applicable, and the gate's own rejected, skipped and deferred —
// are not recorded.
func (g *Gate) Record(container, action, status string) {
	if container == "" {
		return
	}
	switch status {
	case sdk.StatusDryRun, sdk.StatusNotApplicable, sdk.StatusRejected, sdk.StatusSkipped, sdk.StatusDeferred:
		return
	}
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	g.sweep(now)
	st := g.state(container, now)
	if st == nil {
		st = &containerState{}
		g.states[container] = st
	}
	st.record(&g.policy, action, status, now)
}

// Forget drops everything the gate knows about container, its parked
// request included; the container was destroyed.
func (g *Gate) Forget(container string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.states, container)
	delete(g.parked, container)
}

// ForgetActionsBefore drops what the gate knows about container when its
// newest action is older than t, and reports whether it did. A container
// of that name destroyed at t is not the one those actions were for: the
// one that replaces it (compose recreating a service) starts with a clean
// slate instead of inheriting an open breaker.
func (g *Gate) ForgetActionsBefore(container string, t time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	st := g.states[container]
	if st == nil || !st.lastAt.Before(t) {
		return false
	}
	delete(g.states, container)
	delete(g.parked, container)
	return true
}

// state returns the live state of container, dropping it when stale; nil
// when there is none. Call with g.mu held.
func (g *Gate) state(container string, now time.Time) *containerState {
	st := g.states[container]
	if st != nil && g.stale(st, now) {
		delete(g.states, container)
		return nil
	}
	return st
}

func (g *Gate) stale(st *containerState, now time.Time) bool {
	return now.Sub(st.lastAt) > g.retention
}

// sweep forgets every stale container, at most once per sweepEvery, so
// that memory stays bounded by the containers acted on recently. Call with
// g.mu held.
func (g *Gate) sweep(now time.Time) {
	if now.Sub(g.lastSweep) < sweepEvery {
		return
	}
	g.lastSweep = now
	for name, st := range g.states {
		if g.stale(st, now) {
			delete(g.states, name)
		}
	}
}
