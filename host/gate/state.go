package gate

import "time"

// maxRemembered bounds the action times kept per container when the
// breaker needs fewer: enough for the dashboard's "actions in window".
const maxRemembered = 64

// containerState is what the gate remembers about one container.
type containerState struct {
	lastAt     time.Time
	lastAction string
	lastStatus string
	// streak counts consecutive actions, each within the backoff's reset
	// time of the one before; 0 means the next action is immediate.
	streak int
	// recent holds the times of the actions inside the breaker's window,
	// oldest first.
	recent []time.Time
	// escalatedFor is the time of the newest action when the open breaker
	// was last announced; a later action means a new opening.
	escalatedFor time.Time
}

// record notes an action taken at now.
func (s *containerState) record(p *Policy, action, status string, now time.Time) {
	if s.streak > 0 && now.Sub(s.lastAt) >= p.Backoff.resetAfter() {
		s.streak = 0
	}
	s.streak++
	s.lastAt, s.lastAction, s.lastStatus = now, action, status
	if p.Breaker.Window <= 0 {
		return
	}
	s.prune(p.Breaker.Window, now)
	keep := max(p.Breaker.MaxActions, maxRemembered)
	if len(s.recent) >= keep {
		s.recent = append(s.recent[:0], s.recent[len(s.recent)-keep+1:]...)
	}
	s.recent = append(s.recent, now)
}

// prune drops the action times that have left the window.
func (s *containerState) prune(window time.Duration, now time.Time) {
	i := 0
	for i < len(s.recent) && now.Sub(s.recent[i]) >= window {
		i++
	}
	if i > 0 {
		s.recent = append(s.recent[:0], s.recent[i:]...)
	}
}

// breakerOpen says whether the breaker is open at now; call prune first.
func (s *containerState) breakerOpen(b Breaker) bool {
	return b.enabled() && len(s.recent) >= b.MaxActions
}

// breakerClosesAt is when the oldest action leaves the window far enough
// for the breaker to close; call only while it is open.
func (s *containerState) breakerClosesAt(b Breaker) time.Time {
	return s.recent[len(s.recent)-b.MaxActions].Add(b.Window)
}

// nextAllowed is the earliest moment of the next action; the zero time when
// it may be immediate.
func (s *containerState) nextAllowed(p *Policy, now time.Time) time.Time {
	switch {
	case s.streak == 0:
		return time.Time{}
	case p.Cooldown > 0:
		return s.lastAt.Add(p.Cooldown)
	case !p.Backoff.enabled(), now.Sub(s.lastAt) >= p.Backoff.resetAfter():
		return time.Time{}
	}
	return s.lastAt.Add(p.Backoff.delay(s.streak))
}

// step is the backoff step in effect at now: the number of consecutive
// actions, or 0 once the calm has reset it (and always 0 under a cooldown).
func (s *containerState) step(p *Policy, now time.Time) int {
	if p.Cooldown > 0 || !p.Backoff.enabled() || now.Sub(s.lastAt) >= p.Backoff.resetAfter() {
		return 0
	}
	return s.streak
}

// retention is how long a container's state matters after its last
// action: past it every rule has forgotten the action, so the state can go.
func retention(p *Policy) time.Duration {
	keep := max(p.Cooldown, p.Breaker.Window)
	if p.Backoff.enabled() {
		keep = max(keep, p.Backoff.resetAfter())
	}
	return keep
}
