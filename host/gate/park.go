package gate

import (
	"cmp"
	"slices"
	"time"
)

// parkedRequest is a deferred request waiting for its time.
type parkedRequest struct {
	req     Request
	retryAt time.Time
}

// Defer parks r until the container's backoff or cooldown expires and
// returns that moment (now, when nothing holds the container back). Only
// the newest request per container is kept: a newer one replaces the
// parked one, so an action is deferred, never dropped, and never queued
// twice.
func (g *Gate) Defer(r Request) (retryAt time.Time) {
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	retryAt = now
	if st := g.state(r.Container, now); st != nil {
		if next := st.nextAllowed(&g.policy, now); next.After(now) {
			retryAt = next
		}
	}
	g.parked[r.Container] = parkedRequest{req: r, retryAt: retryAt}
	return retryAt
}

// Due removes and returns the parked requests whose time has come, the
// earliest first. The caller re-checks that each container is still sick
// and, if so, calls Check again.
func (g *Gate) Due() []Request {
	now := g.now()
	g.mu.Lock()
	var due []parkedRequest
	for name, p := range g.parked {
		if !p.retryAt.After(now) {
			due = append(due, p)
			delete(g.parked, name)
		}
	}
	g.mu.Unlock()
	slices.SortFunc(due, func(a, b parkedRequest) int {
		if c := a.retryAt.Compare(b.retryAt); c != 0 {
			return c
		}
		return cmp.Compare(a.req.Container, b.req.Container)
	})
	reqs := make([]Request, len(due))
	for i, p := range due {
		reqs[i] = p.req
	}
	return reqs
}

// NextDue is when the earliest parked request becomes due, for the caller's
// timer; ok is false when nothing is parked.
func (g *Gate) NextDue() (at time.Time, ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, p := range g.parked {
		if !ok || p.retryAt.Before(at) {
			at, ok = p.retryAt, true
		}
	}
	return at, ok
}
