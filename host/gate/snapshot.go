package gate

import (
	"cmp"
	"slices"
	"time"
)

// ContainerState is what the gate knows about one container, for the
// dashboard and the metrics.
type ContainerState struct {
	Container string `json:"container"`
	// LastAction, LastStatus and LastActionAt describe the newest recorded
	// action; empty for a container that only has a parked request.
	LastAction   string    `json:"last_action,omitempty"`
	LastStatus   string    `json:"last_status,omitempty"`
	LastActionAt time.Time `json:"last_action_at,omitzero"`
	// ActionsInWindow counts the actions inside the breaker's window.
	ActionsInWindow int `json:"actions_in_window"`
	// BackoffStep is the number of consecutive actions; 0 means the next
	// one is immediate.
	BackoffStep int `json:"backoff_step"`
	// NextAllowed is the earliest moment of the next action; zero when it
	// may be immediate.
	NextAllowed time.Time `json:"next_allowed,omitzero"`
	// BreakerOpen says requests escalate instead of acting, until
	// BreakerClosesAt.
	BreakerOpen     bool      `json:"breaker_open"`
	BreakerClosesAt time.Time `json:"breaker_closes_at,omitzero"`
	// Parked is the deferred request waiting for ParkedUntil, if any.
	Parked      *Request  `json:"parked,omitempty"`
	ParkedUntil time.Time `json:"parked_until,omitzero"`
}

// Snapshot returns the state of every container the gate remembers or has
// a parked request for, sorted by name.
func (g *Gate) Snapshot() []ContainerState {
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	g.sweep(now)
	byName := make(map[string]*ContainerState, len(g.states)+len(g.parked))
	entry := func(name string) *ContainerState {
		cs := byName[name]
		if cs == nil {
			cs = &ContainerState{Container: name}
			byName[name] = cs
		}
		return cs
	}
	for name, st := range g.states {
		if g.stale(st, now) {
			continue
		}
		cs := entry(name)
		cs.LastAction, cs.LastStatus, cs.LastActionAt = st.lastAction, st.lastStatus, st.lastAt
		if b := g.policy.Breaker; b.Window > 0 {
			st.prune(b.Window, now)
			cs.ActionsInWindow = len(st.recent)
			if st.breakerOpen(b) {
				cs.BreakerOpen, cs.BreakerClosesAt = true, st.breakerClosesAt(b)
			}
		}
		cs.BackoffStep = st.step(&g.policy, now)
		if next := st.nextAllowed(&g.policy, now); next.After(now) {
			cs.NextAllowed = next
		}
	}
	for name, p := range g.parked {
		cs := entry(name)
		req := p.req
		cs.Parked, cs.ParkedUntil = &req, p.retryAt
	}
	out := make([]ContainerState, 0, len(byName))
	for _, cs := range byName {
		out = append(out, *cs)
	}
	slices.SortFunc(out, func(a, b ContainerState) int { return cmp.Compare(a.Container, b.Container) })
	return out
}
