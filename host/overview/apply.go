package overview

import (
	"time"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/sdk"
)

// Decision verdicts as the API names them: the envelope types.
const (
	VerdictRemediation = protocol.TypeRemediationNeeded
	VerdictFalseAlarm  = protocol.TypeFalseAlarm
	VerdictEscalation  = protocol.TypeEscalation
)

// Apply records one envelope received live: it counts in the metrics.
func (m *Model) Apply(env protocol.Envelope) { m.apply(env, true) }

// Replay records one envelope read back from an event log: it counts in
// the totals but not in the metrics, which describe this process only.
func (m *Model) Replay(env protocol.Envelope) { m.apply(env, false) }

// apply updates the record of the envelope's container. An envelope of
// another type, or one without a container, changes nothing: the events
// endpoint and the stream show it all the same.
func (m *Model) apply(env protocol.Envelope, live bool) {
	at, err := env.Time()
	if err != nil {
		at = m.now().UTC()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.seen.add(env) {
		return
	}
	switch env.Type {
	case protocol.TypeHealthAlert:
		var d protocol.HealthAlert
		if protocol.DecodeData(env, &d) == nil {
			m.alert(env, d, at, live)
		}
	case protocol.TypeRemediationNeeded:
		var d protocol.RemediationNeeded
		if protocol.DecodeData(env, &d) == nil {
			r := m.about(d.Container)
			r.decide(Decision{At: at, Verdict: VerdictRemediation, Analyzer: d.Analyzer, Reason: d.Reason, Confidence: d.Confidence, Action: d.Action})
			m.sickAgain(r, at, live)
		}
	case protocol.TypeFalseAlarm:
		var d protocol.FalseAlarm
		if protocol.DecodeData(env, &d) == nil {
			r := m.about(d.Container)
			r.decide(Decision{At: at, Verdict: VerdictFalseAlarm, Analyzer: d.Analyzer, Reason: d.Reason, Confidence: d.Confidence})
			r.incident, r.falseAlarmAt = time.Time{}, at
			m.totals.falseAlarms++
		}
	case protocol.TypeEscalation:
		var d protocol.Escalation
		if protocol.DecodeData(env, &d) == nil {
			m.escalate(d, at, live)
		}
	case protocol.TypeRemediationComplete:
		var d protocol.RemediationComplete
		if protocol.DecodeData(env, &d) == nil {
			m.complete(d, at, live)
		}
	case protocol.TypeForeignAction:
		var d protocol.ForeignAction
		if protocol.DecodeData(env, &d) == nil {
			if !d.At.IsZero() {
				at = d.At
			}
			count := max(d.Count, 1)
			m.about(d.Container).foreign = &ForeignAction{At: at, Action: d.Action, Count: count, Ours: d.Ours, Message: d.Message}
			m.totals.foreignActions += count
		}
	}
}

func (m *Model) alert(env protocol.Envelope, d protocol.HealthAlert, at time.Time, live bool) {
	if went, gone := m.gone[d.Container]; gone && d.Sample != nil && d.Sample.Time.After(went) {
		delete(m.gone, d.Container) // a new container of that name
	}
	r := m.about(d.Container)
	r.alert = &Alert{At: at, Issues: d.Issues, Agent: env.Agent}
	if r.incident.IsZero() {
		r.incident = at
	}
	r.healthySince = time.Time{}
	if s := d.Sample; s != nil && !s.Time.IsZero() {
		if took := at.Sub(s.Time); took >= 0 {
			m.totals.detectN++
			m.totals.detectSum += took
			if live {
				m.metrics.detect.Observe(took.Seconds())
			}
		}
		if s.Time.After(r.lastSeen) {
			r.observe(*s, m.settle)
		}
	}
}

func (m *Model) escalate(d protocol.Escalation, at time.Time, live bool) {
	r := m.about(d.Container)
	if d.Source == protocol.EscalatedByAnalyzer {
		r.decide(Decision{At: at, Verdict: VerdictEscalation, Analyzer: d.Analyzer, Reason: d.Reason, Action: d.Action})
	}
	r.escalation = &Escalation{At: at, Source: d.Source, Reason: d.Reason}
	m.sickAgain(r, at, live)
	r.healthySince = time.Time{}
	m.totals.escalations++
	if live {
		m.metrics.escalations.WithLabelValues(sourceLabel(d.Source)).Inc()
	}
}

// sourceLabel bounds the escalation counter's label to the known sources:
// the envelope may come from any publisher.
func sourceLabel(s string) string {
	switch s {
	case protocol.EscalatedByAnalyzer, protocol.EscalatedByBreaker:
		return s
	default:
		return "other"
	}
}

func (m *Model) complete(d protocol.RemediationComplete, at time.Time, live bool) {
	r := m.about(d.Container)
	msg := d.Result.Reason
	if d.Result.Error != "" {
		msg = d.Result.Error
	}
	action := d.Action
	if action == "" {
		action = d.Result.Action
	}
	r.action = &Action{At: at, Action: action, Result: d.Result.Status, Message: msg}
	m.lastSeq++
	m.remediations = append(m.remediations, Remediation{
		At: at, Container: d.Container, Action: action, Result: d.Result.Status, Message: msg,
		Analyzer: d.Analyzer, DryRun: d.Result.DryRun, seq: m.lastSeq,
	})
	if n := len(m.remediations); n > RemediationsMax {
		m.remediations = append(m.remediations[:0:0], m.remediations[n-RemediationsMax:]...)
	}
	switch d.Result.Status {
	case sdk.StatusSuccess:
		m.totals.remediations++
		m.totals.succeeded++
		if !r.incident.IsZero() {
			if took := at.Sub(r.incident); took >= 0 {
				m.totals.remediateN++
				m.totals.remediateSum += took
				if live {
					m.metrics.remediate.Observe(took.Seconds())
				}
			}
		}
		r.incident = time.Time{}
		m.onTrial(r, at)
	case sdk.StatusFailed:
		m.totals.remediations++
	}
}

// decide puts d at the head of the decision trail.
func (r *record) decide(d Decision) {
	r.decisions = append([]Decision{d}, r.decisions...)
	if len(r.decisions) > DecisionsKept {
		r.decisions = r.decisions[:DecisionsKept]
	}
}
