package overview

import (
	"time"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/sdk"
)

// Sample records one observation by hemostatd's monitor. A destroyed
// container is forgotten.
func (m *Model) Sample(s sdk.Sample) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s.Event == sdk.EventDestroy {
		delete(m.containers, s.Container)
		m.forgetGone(s.Time)
		m.gone[s.Container] = s.Time
		return
	}
	delete(m.gone, s.Container)
	m.get(s.Container).observe(s, m.settle)
}

// Stats records a container's stats key, for containers another monitor
// watches: only a value newer than the last observation counts.
func (m *Model) Stats(st protocol.Stats) {
	at, err := protocol.ParseTimestamp(st.Timestamp)
	if err != nil || st.Name == "" {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if went, ok := m.gone[st.Name]; ok && !at.After(went) {
		return
	}
	r := m.get(st.Name)
	if !at.After(r.lastSeen) {
		return
	}
	r.observe(sdk.Sample{
		Container: st.Name, Status: st.Status, Time: at, CPUPct: st.CPUPct, MemoryPct: st.MemoryPct, Health: st.Health,
	}, m.settle)
}

// observe updates the record from s and unpins the escalation once the
// container has run healthy for the settle time. m.mu must be held.
func (r *record) observe(s sdk.Sample, settle time.Duration) {
	at := s.Time
	if at.IsZero() {
		at = time.Now()
	}
	if at.After(r.lastSeen) {
		r.lastSeen = at
	}
	if s.Status != "" {
		r.status = s.Status
	}
	switch {
	case s.Health != "":
		r.health = s.Health
	case s.Event == "" && r.health == "":
		r.health = "none"
	}
	if s.Event == "" {
		r.cpu, r.mem = s.CPUPct, s.MemoryPct
		r.history = append(r.history, Point{At: at, CPUPct: s.CPUPct, MemoryPct: s.MemoryPct})
		if n := len(r.history); n > HistoryPoints {
			r.history = append(r.history[:0:0], r.history[n-HistoryPoints:]...)
		}
	}
	if r.healthyNow() && s.Event != sdk.EventDie && s.Event != sdk.EventOOM {
		if r.healthySince.IsZero() {
			r.healthySince = at
		}
	} else {
		r.healthySince = time.Time{}
	}
	// A sample older than the escalation (a late or replayed one) says
	// nothing about the container since.
	if e := r.escalation; e != nil && !r.healthySince.IsZero() && !r.healthySince.Before(e.At) && at.Sub(r.healthySince) >= settle {
		r.escalation = nil
	}
}

// healthyNow says the latest observation is running and not unhealthy.
func (r *record) healthyNow() bool {
	return r.status == "running" && r.health != sdk.HealthUnhealthy && r.health != sdk.HealthStarting
}
