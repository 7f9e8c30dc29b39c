package overview

import (
	"encoding/json"
	"time"
)

// Overall states of a container, most urgent first.
const (
	StateEscalated  = "escalated"
	StateSilenced   = "silenced"
	StateBackingOff = "backing_off"
	StateActing     = "acting"
	StateWatching   = "watching"
	StateHealthy    = "healthy"
)

// Container is one entry of GET /api/v1/containers.
type Container struct {
	Name      string    `json:"name"`
	State     string    `json:"state"`
	Status    string    `json:"status"`
	Health    string    `json:"health"`
	CPUPct    float64   `json:"cpu_pct"`
	MemoryPct float64   `json:"memory_pct"`
	LastSeen  time.Time `json:"last_seen,omitzero"`
	History   []Point   `json:"history"`
	LastAlert *Alert    `json:"last_alert"`
	// LastDecision is Decisions[0], repeated for a client that wants only it.
	LastDecision *Decision   `json:"last_decision"`
	Decisions    []Decision  `json:"decisions"`
	LastAction   *Action     `json:"last_action"`
	Escalation   *Escalation `json:"escalation"`
	// ForeignAction is the last operation another client of the engine —
	// another healer — made on the container around one of hemostatd's
	// own actions; null when none was seen.
	ForeignAction *ForeignAction `json:"foreign_action"`
	// Gate is the safety gate's state of the container, raw so that its
	// fields are exactly the gate's.
	Gate json.RawMessage `json:"gate"`
	// Silence names the active silence that mutes the container, if any.
	Silence string `json:"silence,omitempty"`
}

// Point is one resource sample of a container's history.
type Point struct {
	At        time.Time `json:"at"`
	CPUPct    float64   `json:"cpu_pct"`
	MemoryPct float64   `json:"memory_pct"`
}

// Alert is a container's last health_alert.
type Alert struct {
	At     time.Time `json:"at"`
	Issues []string  `json:"issues"`
	Agent  string    `json:"agent"`
}

// Decision is one verdict on an alert: remediation_needed, false_alarm or
// an analyzer's escalation.
type Decision struct {
	At         time.Time `json:"at"`
	Verdict    string    `json:"verdict"`
	Analyzer   string    `json:"analyzer"`
	Reason     string    `json:"reason"`
	Confidence float64   `json:"confidence"`
	Action     string    `json:"action,omitempty"`
}

// Action is a remediation_complete's result.
type Action struct {
	At      time.Time `json:"at"`
	Action  string    `json:"action"`
	Result  string    `json:"result"`
	Message string    `json:"message"`
}

// Escalation is the escalation that needs a person.
type Escalation struct {
	At     time.Time `json:"at"`
	Source string    `json:"source"`
	Reason string    `json:"reason"`
}

// ForeignAction is a foreign_action: what another healer did to the
// container, and the warning that names it.
type ForeignAction struct {
	At      time.Time `json:"at"`
	Action  string    `json:"action"`
	Count   int       `json:"count"`
	Ours    string    `json:"ours"`
	Message string    `json:"message"`
}

// Remediation is one entry of GET /api/v1/remediations.
type Remediation struct {
	At        time.Time `json:"at"`
	Container string    `json:"container"`
	Action    string    `json:"action"`
	Result    string    `json:"result"`
	Message   string    `json:"message"`
	Analyzer  string    `json:"analyzer"`
	DryRun    bool      `json:"dry_run,omitempty"`
	// RelapsedAfterMS is set on a success the container did not hold: how
	// long after it the container was acted on or escalated again.
	RelapsedAfterMS float64 `json:"relapsed_after_ms,omitempty"`
	seq             uint64
}

// Totals are the summary's figures, over what the overview has seen since
// it started (the event logs' replay included).
type Totals struct {
	Containers   int `json:"containers"`
	Remediations int `json:"remediations"`
	Succeeded    int `json:"succeeded"`
	// Relapsed counts the successes the container did not hold (see
	// DefaultRelapse); SuccessRate counts only those it held.
	Relapsed    int     `json:"relapsed"`
	SuccessRate float64 `json:"success_rate"`
	FalseAlarms int     `json:"false_alarms"`
	Escalations int     `json:"escalations"`
	// ForeignActions counts the operations of another healer seen around
	// hemostatd's actions: anything but 0 means two healers share the
	// engine.
	ForeignActions        int     `json:"foreign_actions"`
	MeanTimeToDetectMS    float64 `json:"mean_time_to_detect_ms"`
	MeanTimeToRemediateMS float64 `json:"mean_time_to_remediate_ms"`
}
