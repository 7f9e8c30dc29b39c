package overview

import (
	"encoding/json"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/hemostat/hemostat/host/gate"
	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/host/silence"
)

// watchAfterFalseAlarm is how long a container stays "watching" after a
// false alarm: nothing was done, and the next sample may tell otherwise.
const watchAfterFalseAlarm = 5 * time.Minute

// Containers returns every container the model or the gate knows, with
// its overall state: escalated first, then by name.
func (m *Model) Containers(gates []gate.ContainerState, silences []silence.Silence) []Container {
	now := m.now()
	byGate := make(map[string]gate.ContainerState, len(gates))
	for _, g := range gates {
		byGate[g.Container] = g
	}
	m.mu.Lock()
	out := make([]Container, 0, len(m.containers)+len(gates))
	for name, r := range m.containers {
		g, ok := byGate[name]
		delete(byGate, name)
		var gp *gate.ContainerState
		if ok {
			gp = &g
		}
		out = append(out, r.view(gp, silences, now))
	}
	for _, g := range byGate { // acted on, but not (or no longer) observed
		if _, gone := m.gone[g.Container]; gone {
			continue // destroyed: the gate keeps its backoff, the list does not need it
		}
		r := &record{name: g.Container, status: "unknown", health: "none"}
		out = append(out, r.view(&g, silences, now))
	}
	m.mu.Unlock()
	slices.SortFunc(out, func(a, b Container) int {
		ae, be := a.State == StateEscalated, b.State == StateEscalated
		switch {
		case ae && !be:
			return -1
		case be && !ae:
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

// view renders the record. m.mu must be held: it copies the slices.
func (r *record) view(g *gate.ContainerState, silences []silence.Silence, now time.Time) Container {
	c := Container{
		Name: r.name, Status: r.status, Health: r.health, CPUPct: r.cpu, MemoryPct: r.mem, LastSeen: r.lastSeen,
		History: slices.Clone(r.history), Decisions: slices.Clone(r.decisions),
		Gate: json.RawMessage("null"),
	}
	if c.History == nil {
		c.History = []Point{}
	}
	if c.Decisions == nil {
		c.Decisions = []Decision{}
	}
	if len(c.Decisions) > 0 {
		d := c.Decisions[0]
		c.LastDecision = &d
	}
	if r.alert != nil {
		a := *r.alert
		c.LastAlert = &a
	}
	if r.action != nil {
		a := *r.action
		c.LastAction = &a
	}
	if r.escalation != nil {
		e := *r.escalation
		c.Escalation = &e
	}
	if r.foreign != nil {
		f := *r.foreign
		c.ForeignAction = &f
	}
	if g != nil {
		if raw, err := json.Marshal(g); err == nil {
			c.Gate = raw
		}
	}
	c.State, c.Silence = r.state(g, silences, now)
	return c
}

// state is the container's overall state and, when silenced, the silence.
func (r *record) state(g *gate.ContainerState, silences []silence.Silence, now time.Time) (string, string) {
	if r.escalation != nil {
		// A person who silenced the escalation knows of it.
		if s := muting(silences, r.name, protocol.TypeEscalation, now); s != "" {
			return StateSilenced, s
		}
		return StateEscalated, ""
	}
	if s := muting(silences, r.name, "", now); s != "" {
		return StateSilenced, s
	}
	if !r.incident.IsZero() {
		if g != nil && (g.BreakerOpen || g.NextAllowed.After(now) || g.Parked != nil) {
			return StateBackingOff, ""
		}
		return StateActing, ""
	}
	if !r.healthyNow() && r.status != "unknown" {
		return StateWatching, ""
	}
	if !r.falseAlarmAt.IsZero() && now.Sub(r.falseAlarmAt) < watchAfterFalseAlarm {
		return StateWatching, ""
	}
	return StateHealthy, ""
}

// muting returns the id of an active silence that mutes everything about
// container, or eventType when that is set; "" when none does.
func muting(silences []silence.Silence, container, eventType string, now time.Time) string {
	for _, s := range silences {
		// An event of "escalation" is muted by a silence of one of its
		// kinds too (escalation_breaker, escalation_restart_loop).
		if !s.Active(now) || (s.Event != "" && (eventType == "" || !strings.HasPrefix(s.Event, eventType))) {
			continue
		}
		if ok, err := path.Match(s.Container, container); err == nil && ok {
			return s.ID
		}
	}
	return ""
}
