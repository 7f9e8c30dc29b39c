package gate

import (
	"slices"
	"time"
)

// Saved is what the gate remembers of one container, in a form that
// outlives the process: the responder writes it to Redis after each
// handled request, and a daemon that takes over the engine's lease reads
// it back, so that a crash-looping container keeps its backoff step and an
// open breaker stays open across a handover instead of starting over.
// Times are absolute: the daemons sharing a lease share a clock closely
// enough for delays of seconds to minutes.
type Saved struct {
	LastAt       time.Time   `json:"last_at,omitzero"`
	LastAction   string      `json:"last_action,omitempty"`
	LastStatus   string      `json:"last_status,omitempty"`
	Streak       int         `json:"streak"`
	Recent       []time.Time `json:"recent,omitempty"`
	EscalatedFor time.Time   `json:"escalated_for,omitzero"`
	// Parked is the deferred request waiting for ParkedUntil, so that the
	// new holder carries it out when the backoff ends.
	Parked      *Request  `json:"parked,omitempty"`
	ParkedUntil time.Time `json:"parked_until,omitzero"`
}

// Save returns what the gate knows of container; false when nothing.
func (g *Gate) Save(container string) (Saved, bool) {
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	var s Saved
	st := g.state(container, now)
	p, parked := g.parked[container]
	if st == nil && !parked {
		return s, false
	}
	if st != nil {
		s = Saved{LastAt: st.lastAt, LastAction: st.lastAction, LastStatus: st.lastStatus, Streak: st.streak,
			Recent: slices.Clone(st.recent), EscalatedFor: st.escalatedFor}
	}
	if parked {
		req := p.req
		s.Parked, s.ParkedUntil = &req, p.retryAt
	}
	return s, true
}

// Restore replaces what the gate knows of container by s, as read back
// from Redis; nil s (nothing saved, or it expired) forgets the container.
// Redis is the word of the daemon that acted last, so it wins over this
// gate's memory unless the memory holds a newer action: a restore racing
// this gate's own record keeps the record.
func (g *Gate) Restore(container string, s *Saved) {
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	if s == nil {
		delete(g.states, container)
		delete(g.parked, container)
		return
	}
	if st := g.states[container]; st != nil && st.lastAt.After(s.LastAt) {
		return
	}
	delete(g.parked, container)
	if s.Parked != nil && s.Parked.Container == container {
		g.parked[container] = parkedRequest{req: *s.Parked, retryAt: s.ParkedUntil}
	}
	if s.Streak <= 0 && len(s.Recent) == 0 {
		delete(g.states, container)
		return
	}
	st := &containerState{lastAt: s.LastAt, lastAction: s.LastAction, lastStatus: s.LastStatus, streak: s.Streak,
		recent: slices.Clone(s.Recent), escalatedFor: s.EscalatedFor}
	if g.stale(st, now) {
		delete(g.states, container)
		return
	}
	g.states[container] = st
}

// Retention is how long a container's saved state matters after its
// last action: the TTL of its key in Redis.
func (g *Gate) Retention() time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.retention
}
