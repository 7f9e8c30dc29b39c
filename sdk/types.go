package sdk

import "time"

// Lifecycle events a monitor reports. An empty Event marks a periodic
// resource sample.
const (
	EventDie          = "die"
	EventOOM          = "oom"
	EventHealthStatus = "health_status"
	EventStart        = "start"
	EventRestart      = "restart"
	EventDestroy      = "destroy"
	EventPause        = "pause"
	EventUnpause      = "unpause"
	EventStop         = "stop"
)

// Health states as Docker reports them.
const (
	HealthNone      = ""
	HealthStarting  = "starting"
	HealthHealthy   = "healthy"
	HealthUnhealthy = "unhealthy"
)

// Sample is one observation of one container: either a periodic resource
// sample (Event empty) or a lifecycle event reported the moment it happens.
type Sample struct {
	Container string    `json:"name"`
	ID        string    `json:"id,omitempty"`
	Image     string    `json:"image,omitempty"`
	Status    string    `json:"status"` // running, exited, paused, restarting, removed, ...
	Time      time.Time `json:"time"`

	CPUPct      float64 `json:"cpu_pct"`
	MemoryPct   float64 `json:"memory_pct"`
	MemoryUsage uint64  `json:"memory_usage,omitempty"` // bytes, page cache excluded
	MemoryLimit uint64  `json:"memory_limit,omitempty"` // bytes
	// MemoryLimitIsHost says the container has no memory limit of its own and
	// MemoryPct is relative to the host's memory.
	MemoryLimitIsHost bool `json:"memory_limit_is_host,omitempty"`

	Event        string    `json:"event,omitempty"`
	ExitCode     int       `json:"exit_code,omitempty"`
	OOMKilled    bool      `json:"oom_killed,omitempty"`
	Health       string    `json:"health,omitempty"`
	RestartCount int       `json:"restart_count,omitempty"`
	StartedAt    time.Time `json:"started_at,omitempty"`
	// FinishedAt is when the container last exited, zero if it never did:
	// the engine's record in a state sample (the first of a Watch), where
	// it tells the host whether an exited container crashed while no
	// monitor watched the engine; the die event's arrival in a die sample.
	FinishedAt    time.Time `json:"finished_at,omitzero"`
	RestartPolicy string    `json:"restart_policy,omitempty"`
	// StopRequested says the container was stopped on purpose (docker stop,
	// docker kill by a person): its exit is not a crash.
	StopRequested bool `json:"stop_requested,omitempty"`
	// RestartingByDocker says the engine's own restart policy is already
	// bringing the container back.
	RestartingByDocker bool `json:"restarting_by_docker,omitempty"`

	Labels  map[string]string `json:"labels,omitempty"`
	LogTail []string          `json:"log_tail,omitempty"`
}

// IsLifecycle reports whether the sample is a lifecycle event rather than a
// periodic resource sample.
func (s Sample) IsLifecycle() bool { return s.Event != "" }

// Alert is a health_alert as the analyzer role hands it to an analyzer.
type Alert struct {
	Container string         `json:"container"`
	Issues    []string       `json:"issues"`
	Metrics   map[string]any `json:"metrics"`
	// Sample is the observation that raised the alert, when the publisher
	// was hemostatd's monitor role (external monitors may not send it).
	Sample *Sample   `json:"sample,omitempty"`
	Time   time.Time `json:"time"`
}

// Verdicts an analyzer can reach.
const (
	// VerdictRemediate asks the responder role to act.
	VerdictRemediate = "remediate"
	// VerdictFalseAlarm says nothing needs doing.
	VerdictFalseAlarm = "false_alarm"
	// VerdictEscalate says a person must look: acting again would not help.
	VerdictEscalate = "escalate"
	// VerdictAbstain passes the alert to the next analyzer in the chain.
	VerdictAbstain = "abstain"
)

// Actions the built-in responder understands. Custom responders may offer
// others through Capabilities.
const (
	ActionRestart         = "restart"
	ActionStop            = "stop"
	ActionStart           = "start"
	ActionKill            = "kill"
	ActionUnpause         = "unpause"
	ActionUpdateResources = "update_resources"
	ActionExec            = "exec"
	ActionCleanup         = "cleanup"
	ActionScale           = "scale"
)

// AnalyzeRequest is what an analyzer judges: the alert, the container's
// recent samples (oldest first) and its remediation history.
type AnalyzeRequest struct {
	Alert        Alert         `json:"alert"`
	History      []Sample      `json:"history,omitempty"`
	Remediations []Remediation `json:"remediations,omitempty"`
}

// Decision is an analyzer's judgement of one alert.
type Decision struct {
	Verdict    string  `json:"verdict"`
	Action     string  `json:"action,omitempty"`
	Reason     string  `json:"reason"`
	Confidence float64 `json:"confidence"`
	// Analyzer names the plugin that decided; the host fills it in.
	Analyzer string `json:"analyzer,omitempty"`
	// RootCause is the analyzer's short account of what went wrong, beside
	// Reason, which says why it reached its verdict.
	RootCause string `json:"root_cause,omitempty"`
	// Shadow is the judgement of an analyzer in shadow mode. It returns it
	// with VerdictAbstain; the host carries it, with the analyzer's name, to
	// the decision the rest of the chain reaches. It is never acted on.
	Shadow *Decision `json:"shadow,omitempty"`
	// FallbackReason says why the analyzers before the deciding one did not
	// decide; the host fills it in.
	FallbackReason string `json:"fallback_reason,omitempty"`
	// Severity qualifies an escalation: SeverityWarning for a person to
	// look at soon (a capacity warning), SeverityCritical — the meaning of
	// empty — for a person to look at now.
	Severity string `json:"severity,omitempty"`
}

// Remediation is one past action on a container, newest last in a history.
type Remediation struct {
	Time   time.Time `json:"time"`
	Action string    `json:"action"`
	Status string    `json:"status"`
	Reason string    `json:"reason,omitempty"`
}

// RemediateRequest asks a responder to carry out one action.
type RemediateRequest struct {
	Container  string            `json:"container"`
	Action     string            `json:"action"`
	Reason     string            `json:"reason,omitempty"`
	Confidence float64           `json:"confidence,omitempty"`
	Params     map[string]string `json:"params,omitempty"`
	DryRun     bool              `json:"dry_run,omitempty"`
}

// Result statuses. The host's safety gate adds rejected, skipped and
// deferred for actions it refuses.
const (
	StatusSuccess       = "success"
	StatusFailed        = "failed"
	StatusNotApplicable = "not_applicable"
	StatusDryRun        = "dry_run"
	StatusRejected      = "rejected"
	StatusSkipped       = "skipped"
	StatusDeferred      = "deferred"
)

// Result is what a responder reports for one action.
type Result struct {
	Status     string            `json:"status"`
	Error      string            `json:"error,omitempty"`
	Duration   time.Duration     `json:"duration,omitempty"`
	StateAfter string            `json:"state_after,omitempty"`
	Details    map[string]string `json:"details,omitempty"`
}

// Severities of a notification, lowest first.
const (
	SeverityInfo     = "info"
	SeverityWarning  = "warning"
	SeverityCritical = "critical"
)

// Notification kinds: what happened, finer than the envelope type. Alert
// plugins choose their layout by kind; an unknown kind should be shown
// like KindOther.
const (
	KindRemediationSuccess       = "remediation_success"
	KindRemediationFailed        = "remediation_failed"
	KindRemediationRejected      = "remediation_rejected"
	KindRemediationDeferred      = "remediation_deferred"
	KindRemediationSkipped       = "remediation_skipped"
	KindRemediationDryRun        = "remediation_dry_run"
	KindRemediationNotApplicable = "remediation_not_applicable"
	KindFalseAlarm               = "false_alarm"
	// KindEscalationBreaker: the circuit breaker opened; nothing more is
	// done for the container.
	KindEscalationBreaker = "escalation_breaker"
	// KindEscalationRestartLoop: the analyzer saw a restart loop.
	KindEscalationRestartLoop = "escalation_restart_loop"
	// KindEscalation: any other escalation to people.
	KindEscalation = "escalation"
	// KindPluginTrouble and KindRedisTrouble report hemostatd's own
	// health: a plugin that keeps failing, Redis unreachable.
	KindPluginTrouble = "plugin_trouble"
	KindRedisTrouble  = "redis_trouble"
	// KindForeignAction: another client of the engine (a second healer)
	// restarted, stopped or killed a container around hemostatd's own
	// action on it.
	KindForeignAction = "foreign_action"
	// KindStorm is a summary standing for many incidents at once.
	KindStorm = "storm"
	// KindOther is anything else.
	KindOther = "other"
)

// Kinds lists every notification kind.
var Kinds = []string{
	KindRemediationSuccess, KindRemediationFailed, KindRemediationRejected, KindRemediationDeferred,
	KindRemediationSkipped, KindRemediationDryRun, KindRemediationNotApplicable, KindFalseAlarm,
	KindEscalationBreaker, KindEscalationRestartLoop, KindEscalation,
	KindForeignAction, KindPluginTrouble, KindRedisTrouble, KindStorm, KindOther,
}

// TypeSummary is the Type of a storm summary, which stands for
// notifications of several event types.
const TypeSummary = "summary"

// TypeHemostatd is the Type of a notification about hemostatd itself
// (kinds KindPluginTrouble and KindRedisTrouble). It reaches every alert
// plugin whatever its routing, at once: it is rare, and about the very
// path the other notifications take.
const TypeHemostatd = "hemostatd"

// StatusRecovered is the Status of a notification telling that the
// trouble of an earlier one with the same Kind is over.
const StatusRecovered = "recovered"

// Notification is what the alert role hands to every alert plugin.
type Notification struct {
	Type      string `json:"type"` // the envelope type: remediation_complete, false_alarm, escalation; or summary, hemostatd
	Kind      string `json:"kind"`
	Severity  string `json:"severity"`
	Container string `json:"container"`
	// Host is the Docker host of the container, when the envelope names it.
	Host  string    `json:"host,omitempty"`
	Title string    `json:"title"`
	Text  string    `json:"text"`
	Time  time.Time `json:"time"`

	Action     string  `json:"action,omitempty"`
	Status     string  `json:"status,omitempty"` // a remediation result's status
	Reason     string  `json:"reason,omitempty"`
	Error      string  `json:"error,omitempty"`
	Confidence float64 `json:"confidence,omitempty"`
	// Analyzer names the plugin that decided; Fallback says why the
	// analyzers before it in the chain did not.
	Analyzer string `json:"analyzer,omitempty"`
	Fallback string `json:"fallback,omitempty"`
	DryRun   bool   `json:"dry_run,omitempty"`
	// Figures are the key numbers, in display order.
	Figures []Figure `json:"figures,omitempty"`

	// Count is how many notifications alike (same container, kind and
	// host) this one stands for, from FirstTime to Time: 3 means this one
	// and 2 more like it. 0 and 1 both mean itself alone.
	Count     int       `json:"count,omitempty"`
	FirstTime time.Time `json:"first_time,omitzero"`
	// Summary lists the incidents a storm summary (Kind KindStorm) stands
	// for, in arrival order.
	Summary []SummaryItem `json:"summary,omitempty"`

	// Event is the whole envelope as published on Redis, JSON encoded;
	// empty for a summary and for hemostatd's own trouble.
	Event []byte `json:"event,omitempty"`
}

// Figure is one named number of a notification, formatted for people:
// {"CPU", "92.5%"}.
type Figure struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// SummaryItem is one incident of a storm summary.
type SummaryItem struct {
	Container string `json:"container"`
	Host      string `json:"host,omitempty"`
	Kind      string `json:"kind"`
	Severity  string `json:"severity"`
	Title     string `json:"title"`
	// Count is how many notifications of this incident the summary holds.
	Count int `json:"count"`
}
