package gate

import (
	"strconv"
	"time"

	"github.com/hemostat/hemostat/sdk"
)

// Request is one remediation the responder role is about to carry out.
type Request struct {
	Container  string  `json:"container"`
	Action     string  `json:"action"`
	Confidence float64 `json:"confidence"`
	// Labels are the container's labels; nil when unknown.
	Labels map[string]string `json:"labels,omitempty"`
}

// Outcome is the gate's answer to a request.
type Outcome int

const (
	// Allow: act now (or only report, when the verdict says DryRun).
	Allow Outcome = iota
	// Reject: never act on this request.
	Reject
	// Defer: act later; park the request with Gate.Defer.
	Defer
	// Escalate: acting again would not help; tell a person instead.
	Escalate
)

func (o Outcome) String() string {
	switch o {
	case Allow:
		return "allow"
	case Reject:
		return "reject"
	case Defer:
		return "defer"
	case Escalate:
		return "escalate"
	}
	return "Outcome(" + strconv.Itoa(int(o)) + ")"
}

// Verdict is the gate's answer with what the caller needs to report it.
type Verdict struct {
	Outcome Outcome
	// Status is the protocol result status for a refusal: "rejected" for
	// Reject and Escalate, "deferred" for Defer, "" for Allow.
	Status string
	// Reason is a sentence for people, with the numbers that led to it.
	Reason string
	// RetryAt is when a deferred request may act (Defer only).
	RetryAt time.Time
	// DryRun marks an Allow under dry-run: the caller must not change
	// anything, only report what it would have done.
	DryRun bool
	// FirstEscalation is true only for the first Escalate after the breaker
	// opened on this container, so that the caller publishes one
	// escalation per opening rather than one per alert.
	FirstEscalation bool
}

func allowed(reason string, dryRun bool) Verdict {
	return Verdict{Outcome: Allow, Reason: reason, DryRun: dryRun}
}

func rejected(reason string) Verdict {
	return Verdict{Outcome: Reject, Status: sdk.StatusRejected, Reason: reason}
}

func deferred(reason string, retryAt time.Time) Verdict {
	return Verdict{Outcome: Defer, Status: sdk.StatusDeferred, Reason: reason, RetryAt: retryAt}
}

func escalated(reason string, first bool) Verdict {
	return Verdict{Outcome: Escalate, Status: sdk.StatusRejected, Reason: reason, FirstEscalation: first}
}
