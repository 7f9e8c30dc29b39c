package protocol

import (
	"math"

	"github.com/hemostat/hemostat/sdk"
)

// Metrics is the metrics object of a health_alert and of the stats key.
// Extra fields published by others are kept in the alert as a map; these are
// the ones hemostatd writes.
type Metrics struct {
	Name      string  `json:"name"`
	Status    string  `json:"status"`
	MemoryPct float64 `json:"memory_pct"`
	CPUPct    float64 `json:"cpu_pct"`
	Timestamp string  `json:"timestamp"`
}

// MetricsFromSample is what hemostatd publishes for a sample, rounded to
// one decimal like the protocol's examples.
func MetricsFromSample(s sdk.Sample) Metrics {
	return Metrics{
		Name:      s.Container,
		Status:    s.Status,
		MemoryPct: round1(s.MemoryPct),
		CPUPct:    round1(s.CPUPct),
		Timestamp: s.Time.UTC().Format(StatsTimestampFormat),
	}
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

// HealthAlert is the data of a health_alert.
type HealthAlert struct {
	Container string         `json:"container"`
	Issues    []string       `json:"issues"`
	Metrics   map[string]any `json:"metrics"`
	// Sample is a HemoStat extension: the observation that raised the alert.
	Sample *sdk.Sample `json:"sample,omitempty"`
}

func (d *HealthAlert) validate() error {
	if d.Container == "" {
		return invalid(ErrMissing, "data.container")
	}
	if len(d.Issues) == 0 {
		return invalid(ErrMissing, "data.issues")
	}
	return nil
}

// RemediationNeeded is the data of a remediation_needed.
type RemediationNeeded struct {
	Container  string         `json:"container"`
	Action     string         `json:"action"`
	Reason     string         `json:"reason"`
	Confidence float64        `json:"confidence"`
	Metrics    map[string]any `json:"metrics,omitempty"`
	// Analyzer is a HemoStat extension naming the plugin that decided.
	Analyzer string `json:"analyzer,omitempty"`
	// Issues is a HemoStat extension: the alert's issues, for re-checks.
	Issues []string `json:"issues,omitempty"`
	// RequestID is a HemoStat extension naming the alert this answers
	// (see RequestID): hemostatd's responder acts at most once per
	// request, however often the request is delivered.
	RequestID string `json:"request_id,omitempty"`
	Judgement
}

func (d *RemediationNeeded) validate() error {
	switch {
	case d.Container == "":
		return invalid(ErrMissing, "data.container")
	case d.Action == "":
		return invalid(ErrMissing, "data.action")
	case d.Confidence < 0 || d.Confidence > 1:
		return invalid(ErrInvalidData, "data.confidence %v is outside [0, 1]", d.Confidence)
	}
	return nil
}

// Result is the result object of a remediation_complete. Status, Action and
// Container are the protocol's; the rest are HemoStat extensions.
type Result struct {
	Status     string            `json:"status"`
	Action     string            `json:"action"`
	Container  string            `json:"container"`
	Reason     string            `json:"reason,omitempty"`
	Error      string            `json:"error,omitempty"`
	DurationMS int64             `json:"duration_ms,omitempty"`
	StateAfter string            `json:"state_after,omitempty"`
	DryRun     bool              `json:"dry_run,omitempty"`
	RetryAt    string            `json:"retry_at,omitempty"`
	Details    map[string]string `json:"details,omitempty"`
}

// RemediationComplete is the data of a remediation_complete.
type RemediationComplete struct {
	Container string `json:"container"`
	Action    string `json:"action"`
	Result    Result `json:"result"`
	// The decision acted on, HemoStat extensions copied from the
	// remediation_needed, so that a notification can say who decided and
	// on what figures.
	Analyzer   string         `json:"analyzer,omitempty"`
	Confidence float64        `json:"confidence,omitempty"`
	Issues     []string       `json:"issues,omitempty"`
	Metrics    map[string]any `json:"metrics,omitempty"`
	// RequestID is the remediation_needed's (a HemoStat extension), so
	// that a result can be matched to the alert and the decision it
	// answers.
	RequestID string `json:"request_id,omitempty"`
	Judgement
}

func (d *RemediationComplete) validate() error {
	switch {
	case d.Container == "":
		return invalid(ErrMissing, "data.container")
	case d.Result.Status == "":
		return invalid(ErrMissing, "data.result.status")
	}
	return nil
}

// FalseAlarm is the data of a false_alarm.
type FalseAlarm struct {
	Container string `json:"container"`
	Reason    string `json:"reason"`
	// Analyzer and Confidence are HemoStat extensions.
	Analyzer   string  `json:"analyzer,omitempty"`
	Confidence float64 `json:"confidence,omitempty"`
	Judgement
}

func (d *FalseAlarm) validate() error {
	if d.Container == "" {
		return invalid(ErrMissing, "data.container")
	}
	return nil
}

// Judgement is the HemoStat extension every decision envelope
// (remediation_needed, false_alarm, an analyzer's escalation) carries in its
// data beside the protocol's fields.
type Judgement struct {
	// RootCause is the deciding analyzer's short account of what went wrong.
	RootCause string `json:"root_cause,omitempty"`
	// FallbackReason says why the analyzers before the deciding one did not
	// decide: "llm: reply not used: action \"exec\" is not allowed".
	FallbackReason string `json:"fallback_reason,omitempty"`
	// Shadow is what an analyzer in shadow mode would have decided.
	Shadow *ShadowJudgement `json:"shadow,omitempty"`
}

// ShadowJudgement is an analyzer's judgement in shadow mode, recorded beside
// the decision and never acted on.
type ShadowJudgement struct {
	Analyzer   string  `json:"analyzer"`
	Verdict    string  `json:"verdict"`
	Action     string  `json:"action,omitempty"`
	Reason     string  `json:"reason,omitempty"`
	RootCause  string  `json:"root_cause,omitempty"`
	Confidence float64 `json:"confidence"`
	// Agree says whether it is what the deciding analyzer did: the same
	// verdict and, to remediate, the same action.
	Agree bool `json:"agree"`
}

// Escalation sources.
const (
	EscalatedByAnalyzer = "analyzer"
	EscalatedByBreaker  = "circuit_breaker"
)

// Escalation is the data of an escalation (HemoStat extension).
type Escalation struct {
	Container string   `json:"container"`
	Reason    string   `json:"reason"`
	Source    string   `json:"source"`
	Action    string   `json:"action,omitempty"`
	Issues    []string `json:"issues,omitempty"`
	// Analyzer names what decided to escalate: an analyzer, or hemostatd
	// when none decided. Empty for the circuit breaker.
	Analyzer string `json:"analyzer,omitempty"`
	// Severity is "warning" for something a person should look at soon
	// (a capacity warning) or "critical"; empty means critical.
	Severity string `json:"severity,omitempty"`
	Judgement
}

func (d *Escalation) validate() error {
	if d.Container == "" {
		return invalid(ErrMissing, "data.container")
	}
	return nil
}

// Stats is the value of hemostat:stats:<name>: the protocol's five fields
// plus HemoStat's extensions.
type Stats struct {
	Metrics
	Health       string `json:"health,omitempty"`
	RestartCount int    `json:"restart_count,omitempty"`
	ExitCode     int    `json:"exit_code,omitempty"`
	// MemoryLimitIsHost says memory_pct is relative to the host's memory.
	MemoryLimitIsHost bool `json:"memory_limit_is_host,omitempty"`
}

// StatsFromSample builds the stats value for a sample.
func StatsFromSample(s sdk.Sample) Stats {
	return Stats{
		Metrics: MetricsFromSample(s), Health: s.Health, RestartCount: s.RestartCount,
		ExitCode: s.ExitCode, MemoryLimitIsHost: s.MemoryLimitIsHost,
	}
}

// RemediationRecord is the value of hemostat:remediation:<name>.
type RemediationRecord struct {
	LastAction string `json:"last_action"`
	Count      int    `json:"count"`
}

// ForeignAction is the data of a foreign_action envelope, as a responder
// plugin publishes it (sdk.ForeignAction).
type ForeignAction sdk.ForeignAction

func (d *ForeignAction) validate() error {
	if d.Container == "" {
		return invalid(ErrMissing, "data.container")
	}
	return nil
}
