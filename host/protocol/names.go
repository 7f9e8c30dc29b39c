package protocol

import "time"

// Event types. Each is published on the channel "hemostat:<type>".
const (
	TypeHealthAlert         = "health_alert"
	TypeRemediationNeeded   = "remediation_needed"
	TypeRemediationComplete = "remediation_complete"
	TypeFalseAlarm          = "false_alarm"
	// TypeEscalation is a HemoStat extension: a person must look, because
	// acting again would not help (restart loop, open circuit breaker).
	TypeEscalation = "escalation"
	// TypeForeignAction is a HemoStat extension: another client of the
	// engine restarted, stopped or killed a container around a responder's
	// own action on it — another healer is acting on the same engine.
	TypeForeignAction = "foreign_action"
)

// Types lists every event type hemostatd publishes or consumes.
var Types = []string{TypeHealthAlert, TypeRemediationNeeded, TypeRemediationComplete, TypeFalseAlarm, TypeEscalation}

// LoggedTypes is every event type with an event log that people read
// (hemostatd events): Types and the extensions no role consumes.
var LoggedTypes = append(append([]string(nil), Types...), TypeForeignAction)

// Agent names, one per role, as they appear in an envelope's agent field.
const (
	AgentMonitor   = "HemoStat-Monitor"
	AgentAnalyzer  = "HemoStat-Analyzer"
	AgentResponder = "HemoStat-Responder"
	AgentAlert     = "HemoStat-Alert"
)

// Prefix starts every channel and key HemoStat uses.
const Prefix = "hemostat:"

// Lifetimes and sizes fixed by the protocol.
const (
	StatsTTL       = 300 * time.Second
	RemediationTTL = 3600 * time.Second
	EventLogTTL    = 3600 * time.Second
	EventLogMax    = 100
)

// Channel is the pub/sub channel of an event type.
func Channel(eventType string) string { return Prefix + eventType }

// StatsKey holds a container's latest stats (JSON string, StatsTTL).
func StatsKey(container string) string { return Prefix + "stats:" + container }

// RemediationKey holds a container's remediation record (JSON string,
// RemediationTTL).
func RemediationKey(container string) string { return Prefix + "remediation:" + container }

// EventLogKey holds the newest EventLogMax envelopes of a type (JSON array
// string, EventLogTTL).
func EventLogKey(eventType string) string { return Prefix + "events:" + eventType }

// Extension keys, documented in the README beside the protocol's own.
const (
	// HistoryMax is how many samples a container's history keeps.
	HistoryMax = 120
	// DecisionsMax is how many decisions and remediations a container's
	// decision history keeps.
	DecisionsMax = 50
	// HistoryTTL bounds the life of both history keys after the last write.
	HistoryTTL = 3600 * time.Second
)

// HistoryKey is a Redis list of a container's recent samples as JSON, newest
// last, capped at HistoryMax.
func HistoryKey(container string) string { return Prefix + "history:" + container }

// DecisionsKey is a Redis list of a container's recent remediations as JSON,
// newest last, capped at DecisionsMax. Its hash tag is the container's
// RemediationKey, so a Redis Cluster keeps both in one slot and one script
// updates them together.
func DecisionsKey(container string) string {
	return Prefix + "decisions:{" + RemediationKey(container) + "}"
}

// StateKey holds a plugin's shared state set through the host callback.
func StateKey(key string) string { return Prefix + "state:" + key }

// GateKey holds the responder's safety-gate state of a container (JSON,
// kept for the gate's retention: the longest of the backoff's reset, the
// breaker's window and the cooldown), so that a daemon taking over the
// engine's lease continues the backoff and keeps an open breaker open. Its
// hash tag is the container's RemediationKey: one Cluster slot holds the
// record, the decisions and the gate state of a container.
func GateKey(container string) string {
	return Prefix + "gate:{" + RemediationKey(container) + "}"
}
