package role

import (
	"fmt"
	"strings"
	"time"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/sdk"
)

// notificationFor turns an envelope the alert role consumes into the
// notification its plugins deliver, or false when the data is invalid.
func notificationFor(env protocol.Envelope) (sdk.Notification, error) {
	raw, err := envelopeJSON(env)
	if err != nil {
		return sdk.Notification{}, err
	}
	t, _ := env.Time()
	n := sdk.Notification{Type: env.Type, Time: t, Event: raw}
	switch env.Type {
	case protocol.TypeRemediationComplete:
		var d protocol.RemediationComplete
		if err := protocol.DecodeData(env, &d); err != nil {
			return sdk.Notification{}, err
		}
		n.Container = d.Container
		n.Severity = severityOfResult(d.Result.Status)
		n.Title = titleOfResult(d)
		n.Text = textOfResult(d.Result)
	case protocol.TypeFalseAlarm:
		var d protocol.FalseAlarm
		if err := protocol.DecodeData(env, &d); err != nil {
			return sdk.Notification{}, err
		}
		n.Container, n.Severity = d.Container, sdk.SeverityInfo
		n.Title = fmt.Sprintf("False alarm on %s", d.Container)
		n.Text = d.Reason
	case protocol.TypeEscalation:
		var d protocol.Escalation
		if err := protocol.DecodeData(env, &d); err != nil {
			return sdk.Notification{}, err
		}
		n.Container, n.Severity = d.Container, sdk.SeverityCritical
		n.Title = fmt.Sprintf("%s needs a person", d.Container)
		n.Text = d.Reason
		if len(d.Issues) > 0 {
			n.Text += "\nIssues: " + strings.Join(d.Issues, "; ")
		}
	default:
		return sdk.Notification{}, fmt.Errorf("no notification for event type %q", env.Type)
	}
	return n, nil
}

func severityOfResult(status string) string {
	switch status {
	case sdk.StatusFailed:
		return sdk.SeverityCritical
	case sdk.StatusRejected, sdk.StatusDeferred:
		return sdk.SeverityWarning
	}
	return sdk.SeverityInfo
}

func titleOfResult(d protocol.RemediationComplete) string {
	switch d.Result.Status {
	case sdk.StatusSuccess:
		return fmt.Sprintf("%s: %s succeeded", d.Container, d.Action)
	case sdk.StatusFailed:
		return fmt.Sprintf("%s: %s FAILED", d.Container, d.Action)
	case sdk.StatusDryRun:
		return fmt.Sprintf("%s: would %s (dry run)", d.Container, d.Action)
	}
	return fmt.Sprintf("%s: %s %s", d.Container, d.Action, d.Result.Status)
}

func textOfResult(r protocol.Result) string {
	var parts []string
	if r.Reason != "" {
		parts = append(parts, r.Reason)
	}
	if r.Error != "" {
		parts = append(parts, "Error: "+r.Error)
	}
	if r.StateAfter != "" {
		parts = append(parts, "State after: "+r.StateAfter)
	}
	if r.DurationMS > 0 {
		parts = append(parts, "Took "+(time.Duration(r.DurationMS)*time.Millisecond).String())
	}
	if r.RetryAt != "" {
		parts = append(parts, "Retry at "+r.RetryAt+" UTC")
	}
	return strings.Join(parts, "\n")
}

// dedupeKey identifies "the same news" within the dedupe window.
func dedupeKey(n sdk.Notification, env protocol.Envelope) string {
	if env.Type == protocol.TypeRemediationComplete {
		return env.Type + "|" + n.Container + "|" + n.Title
	}
	return env.Type + "|" + n.Container + "|" + n.Text
}

var severityRank = map[string]int{sdk.SeverityInfo: 0, sdk.SeverityWarning: 1, sdk.SeverityCritical: 2}

// AtLeast reports whether severity is at or above min.
func AtLeast(severity, min string) bool { return severityRank[severity] >= severityRank[min] }
