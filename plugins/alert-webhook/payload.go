package webhook

import (
	"encoding/json"
	"time"

	"github.com/hemostat/hemostat/sdk"
)

// PayloadVersion is the version of the body's layout; a field added keeps
// it, a field renamed or removed bumps it.
const PayloadVersion = 1

// Payload is the JSON body of every request. Its field order is fixed
// (struct order), so the same notification always encodes to the same
// bytes.
type Payload struct {
	Version      int          `json:"version"`
	Notification Notification `json:"notification"`
	// Event is the envelope as published on Redis, unchanged; null for a
	// storm summary and for hemostatd's own trouble.
	Event json.RawMessage `json:"event"`
}

// Notification is sdk.Notification without the raw envelope, which goes
// beside it in Payload.Event.
type Notification struct {
	Type       string            `json:"type"`
	Kind       string            `json:"kind"`
	Severity   string            `json:"severity"`
	Container  string            `json:"container"`
	Host       string            `json:"host,omitempty"`
	Title      string            `json:"title"`
	Text       string            `json:"text"`
	Time       time.Time         `json:"time"`
	Action     string            `json:"action,omitempty"`
	Status     string            `json:"status,omitempty"`
	Reason     string            `json:"reason,omitempty"`
	Error      string            `json:"error,omitempty"`
	Confidence float64           `json:"confidence,omitempty"`
	Analyzer   string            `json:"analyzer,omitempty"`
	Fallback   string            `json:"fallback,omitempty"`
	DryRun     bool              `json:"dry_run,omitempty"`
	Figures    []sdk.Figure      `json:"figures,omitempty"`
	Count      int               `json:"count,omitempty"`
	FirstTime  *time.Time        `json:"first_time,omitempty"`
	Summary    []sdk.SummaryItem `json:"summary,omitempty"`
}

// Encode is the request body for n.
func Encode(n sdk.Notification) ([]byte, error) {
	p := Payload{Version: PayloadVersion, Event: json.RawMessage("null"), Notification: Notification{
		Type: n.Type, Kind: n.Kind, Severity: n.Severity, Container: n.Container, Host: n.Host,
		Title: n.Title, Text: n.Text, Time: n.Time.UTC(), Action: n.Action, Status: n.Status,
		Reason: n.Reason, Error: n.Error, Confidence: n.Confidence, Analyzer: n.Analyzer,
		Fallback: n.Fallback, DryRun: n.DryRun, Figures: n.Figures, Count: n.Count, Summary: n.Summary,
	}}
	if !n.FirstTime.IsZero() {
		ft := n.FirstTime.UTC()
		p.Notification.FirstTime = &ft
	}
	if len(n.Event) > 0 && json.Valid(n.Event) {
		p.Event = n.Event
	}
	return json.Marshal(p)
}
