package role

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/sdk"
)

// notificationFor turns an envelope the alert role consumes into the
// notification its plugins deliver, or an error when the data is invalid.
func notificationFor(env protocol.Envelope) (sdk.Notification, error) {
	raw, err := json.Marshal(env)
	if err != nil {
		return sdk.Notification{}, err
	}
	t, _ := env.Time()
	n := sdk.Notification{Type: env.Type, Time: t, Event: raw, Host: hostOf(env)}
	switch env.Type {
	case protocol.TypeRemediationComplete:
		var d protocol.RemediationComplete
		if err := protocol.DecodeData(env, &d); err != nil {
			return sdk.Notification{}, err
		}
		n.Container, n.Action, n.Status = d.Container, d.Action, d.Result.Status
		n.Kind = kindOfResult(d.Result.Status)
		n.Severity = severityOfResult(d.Result.Status)
		n.Reason, n.Error, n.DryRun = d.Result.Reason, d.Result.Error, d.Result.DryRun
		n.Analyzer, n.Confidence, n.Fallback = d.Analyzer, d.Confidence, d.FallbackReason
		n.Title = titleOfResult(d)
		n.Text = textOfResult(d.Result)
		n.Figures = append(metricFigures(d.Metrics, d.Issues), resultFigures(d.Result)...)
	case protocol.TypeFalseAlarm:
		var d protocol.FalseAlarm
		if err := protocol.DecodeData(env, &d); err != nil {
			return sdk.Notification{}, err
		}
		n.Container, n.Severity, n.Kind = d.Container, sdk.SeverityInfo, sdk.KindFalseAlarm
		n.Reason, n.Analyzer, n.Confidence, n.Fallback = d.Reason, d.Analyzer, d.Confidence, d.FallbackReason
		n.Title = fmt.Sprintf("False alarm on %s", d.Container)
		n.Text = d.Reason
	case protocol.TypeEscalation:
		var d protocol.Escalation
		if err := protocol.DecodeData(env, &d); err != nil {
			return sdk.Notification{}, err
		}
		n.Container, n.Severity, n.Action = d.Container, sdk.SeverityCritical, d.Action
		n.Kind = kindOfEscalation(d)
		n.Reason, n.Analyzer, n.Fallback = d.Reason, d.Analyzer, d.FallbackReason
		n.Title = fmt.Sprintf("%s needs a person", d.Container)
		if d.Severity == sdk.SeverityWarning {
			n.Severity = sdk.SeverityWarning
			n.Title = fmt.Sprintf("%s: warning", d.Container)
		}
		n.Text = d.Reason
		if len(d.Issues) > 0 {
			n.Text += "\nIssues: " + strings.Join(d.Issues, "; ")
		}
		n.Figures = metricFigures(nil, d.Issues)
	case protocol.TypeForeignAction:
		var d protocol.ForeignAction
		if err := protocol.DecodeData(env, &d); err != nil {
			return sdk.Notification{}, err
		}
		// A warning, not critical: both healers brought the container
		// back, but every action of one is doubled by the other. The
		// grouping window makes it one message per container.
		n.Container, n.Severity, n.Kind, n.Action = d.Container, sdk.SeverityWarning, sdk.KindForeignAction, d.Action
		n.Title = fmt.Sprintf("%s: another healer is acting on this engine", d.Container)
		n.Text = d.Message
		if n.Text == "" {
			n.Text = fmt.Sprintf("another client of the engine did %s on %s around hemostatd's %s", d.Action, d.Container, d.Ours)
		}
		n.Figures = foreignFigures(sdk.ForeignAction(d))
	default:
		return sdk.Notification{}, fmt.Errorf("no notification for event type %q", env.Type)
	}
	return n, nil
}

// hostOf reads the host an envelope's data names, when it does (a fleet
// of hemostatd on one Redis); "" otherwise.
func hostOf(env protocol.Envelope) string {
	var h struct {
		Host string `json:"host"`
	}
	if json.Unmarshal(env.Data, &h) != nil {
		return ""
	}
	return h.Host
}

func kindOfResult(status string) string {
	switch status {
	case sdk.StatusSuccess:
		return sdk.KindRemediationSuccess
	case sdk.StatusFailed:
		return sdk.KindRemediationFailed
	case sdk.StatusRejected:
		return sdk.KindRemediationRejected
	case sdk.StatusDeferred:
		return sdk.KindRemediationDeferred
	case sdk.StatusSkipped:
		return sdk.KindRemediationSkipped
	case sdk.StatusDryRun:
		return sdk.KindRemediationDryRun
	case sdk.StatusNotApplicable:
		return sdk.KindRemediationNotApplicable
	}
	return sdk.KindOther
}

func kindOfEscalation(d protocol.Escalation) string {
	if d.Source == protocol.EscalatedByBreaker {
		return sdk.KindEscalationBreaker
	}
	for _, is := range append([]string{d.Reason}, d.Issues...) {
		if strings.HasPrefix(is, protocol.IssuePrefixRestartLoop) || strings.Contains(strings.ToLower(is), "restart loop") {
			return sdk.KindEscalationRestartLoop
		}
	}
	return sdk.KindEscalation
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

// metricFigures are the figures behind a decision: the issues, then CPU
// and memory when the alert carried them.
func metricFigures(metrics map[string]any, issues []string) []sdk.Figure {
	var out []sdk.Figure
	if len(issues) > 0 {
		out = append(out, sdk.Figure{Name: "Issues", Value: strings.Join(issues, "; ")})
	}
	for _, m := range []struct{ key, name string }{{"cpu_pct", "CPU"}, {"memory_pct", "Memory"}} {
		if f, ok := metrics[m.key].(float64); ok {
			out = append(out, sdk.Figure{Name: m.name, Value: strconv.FormatFloat(f, 'f', 1, 64) + "%"})
		}
	}
	return out
}

func resultFigures(r protocol.Result) []sdk.Figure {
	var out []sdk.Figure
	if r.DurationMS > 0 {
		out = append(out, sdk.Figure{Name: "Took", Value: (time.Duration(r.DurationMS) * time.Millisecond).String()})
	}
	if r.StateAfter != "" {
		out = append(out, sdk.Figure{Name: "State after", Value: r.StateAfter})
	}
	if r.RetryAt != "" {
		out = append(out, sdk.Figure{Name: "Retry at", Value: r.RetryAt + " UTC"})
	}
	return out
}

var severityRank = map[string]int{sdk.SeverityInfo: 0, sdk.SeverityWarning: 1, sdk.SeverityCritical: 2}

// AtLeast reports whether severity is at or above min.
func AtLeast(severity, min string) bool { return severityRank[severity] >= severityRank[min] }

// SilenceEvents are what a silence's event may name: an envelope type the
// alert role reports, or a notification kind.
func SilenceEvents() []string {
	return append(slices.Clone(NotifiedTypes), sdk.Kinds...)
}

// foreignFigures are what another healer did, and when against our own
// action.
func foreignFigures(d sdk.ForeignAction) []sdk.Figure {
	other := d.Action
	if d.Count > 1 {
		other += fmt.Sprintf(" ×%d", d.Count)
	}
	out := []sdk.Figure{{Name: "Other client", Value: other}}
	if d.Ours != "" {
		out = append(out, sdk.Figure{Name: "Ours", Value: d.Ours})
		out = append(out, sdk.Figure{Name: "Offset", Value: strconv.FormatFloat(d.OffsetSeconds, 'f', 2, 64) + " s"})
	}
	return out
}
