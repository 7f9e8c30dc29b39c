package role

import "sync/atomic"

// liveThresholds carries thresholds set by a config reload to a role that
// is running: the role's Detect field is its start-up value and is never
// written once the role runs.
type liveThresholds struct{ p atomic.Pointer[Thresholds] }

func (l *liveThresholds) set(t Thresholds) { l.p.Store(&t) }

// get returns the reloaded thresholds, or def when there has been no reload.
func (l *liveThresholds) get(def Thresholds) Thresholds {
	if t := l.p.Load(); t != nil {
		return *t
	}
	return def
}

// take returns reloaded thresholds once, for a role that copies them into
// state of its own (the monitor's detector).
func (l *liveThresholds) take() (Thresholds, bool) {
	if t := l.p.Swap(nil); t != nil {
		return *t, true
	}
	return Thresholds{}, false
}

// SetThresholds makes the monitor detect with t from its next sample on,
// as a config reload does. What the detector knows of each container —
// breaches under way, crash counts, the last alerts — is kept.
func (m *Monitor) SetThresholds(t Thresholds) { m.live.set(t) }

// SetThresholds makes the re-check of deferred actions use t from now on.
func (r *Responder) SetThresholds(t Thresholds) { r.live.set(t) }
