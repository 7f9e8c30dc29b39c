// Package notifytest holds one realistic notification of every kind, as
// hemostatd's alert role builds them, for the alert plugins' golden tests.
package notifytest

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hemostat/hemostat/sdk"
)

// Sample is one notification with a file-friendly name.
type Sample struct {
	Name string
	N    sdk.Notification
}

// T0 is when every sample happens.
var T0 = time.Date(2027, 3, 14, 9, 26, 53, 589000000, time.UTC)

func envelope(agent, typ string, data map[string]any) []byte {
	raw, _ := json.Marshal(map[string]any{
		"timestamp": T0.Format("2006-01-02T15:04:05.000000"), "agent": agent, "type": typ, "data": data,
	})
	return raw
}

// Samples returns one notification of each kind.
func Samples() []Sample {
	metrics := map[string]any{"name": "api", "status": "exited", "cpu_pct": 0.0, "memory_pct": 12.5}
	issues := []string{"Exited with code 1"}
	restart := func(status, kind, severity, title, text string, extra func(*sdk.Notification, map[string]any)) sdk.Notification {
		result := map[string]any{"status": status, "action": "restart", "container": "api"}
		data := map[string]any{"container": "api", "action": "restart", "result": result,
			"analyzer": "threshold", "confidence": 0.9, "issues": issues, "metrics": metrics}
		n := sdk.Notification{
			Type: "remediation_complete", Kind: kind, Severity: severity, Container: "api", Host: "docker-01",
			Title: title, Text: text, Time: T0, Action: "restart", Status: status,
			Reason: "Exited with code 1: restart", Confidence: 0.9, Analyzer: "threshold",
			Figures: []sdk.Figure{{Name: "Issues", Value: "Exited with code 1"}, {Name: "CPU", Value: "0.0%"}, {Name: "Memory", Value: "12.5%"}},
		}
		if extra != nil {
			extra(&n, result)
		}
		n.Event = envelope("HemoStat-Responder", "remediation_complete", data)
		return n
	}
	return []Sample{
		{"remediation_success", restart("success", sdk.KindRemediationSuccess, sdk.SeverityInfo,
			"api: restart succeeded", "Exited with code 1: restart\nState after: running\nTook 412ms",
			func(n *sdk.Notification, r map[string]any) {
				r["state_after"], r["duration_ms"] = "running", 412
				n.Figures = append(n.Figures, sdk.Figure{Name: "Took", Value: "412ms"}, sdk.Figure{Name: "State after", Value: "running"})
			})},
		{"remediation_failed", restart("failed", sdk.KindRemediationFailed, sdk.SeverityCritical,
			"api: restart FAILED", "Exited with code 1: restart\nError: container did not become healthy within 30s",
			func(n *sdk.Notification, r map[string]any) {
				r["error"] = "container did not become healthy within 30s"
				n.Error = "container did not become healthy within 30s"
				n.Fallback = "llm: deadline exceeded after 10s"
				n.Analyzer = "threshold"
			})},
		{"remediation_rejected", restart("rejected", sdk.KindRemediationRejected, sdk.SeverityWarning,
			"api: restart rejected", "confidence 0.55 is below the minimum 0.70",
			func(n *sdk.Notification, r map[string]any) {
				n.Reason, n.Confidence = "confidence 0.55 is below the minimum 0.70", 0.55
				r["reason"] = n.Reason
			})},
		{"remediation_deferred", restart("deferred", sdk.KindRemediationDeferred, sdk.SeverityWarning,
			"api: restart deferred", "in backoff after 2 actions; next allowed in 20s\nRetry at 2027-03-14T09:27:13.589000 UTC",
			func(n *sdk.Notification, r map[string]any) {
				n.Reason = "in backoff after 2 actions; next allowed in 20s"
				r["reason"], r["retry_at"] = n.Reason, "2027-03-14T09:27:13.589000"
				n.Figures = append(n.Figures, sdk.Figure{Name: "Retry at", Value: "2027-03-14T09:27:13.589000 UTC"})
				n.Count, n.FirstTime = 3, T0.Add(-40*time.Second)
			})},
		{"remediation_dry_run", restart("dry_run", sdk.KindRemediationDryRun, sdk.SeverityInfo,
			"api: would restart (dry run)", "Exited with code 1: restart",
			func(n *sdk.Notification, r map[string]any) { n.DryRun, r["dry_run"] = true, true })},
		{"false_alarm", sdk.Notification{
			Type: "false_alarm", Kind: sdk.KindFalseAlarm, Severity: sdk.SeverityInfo, Container: "worker",
			Title: "False alarm on worker", Text: "CPU spike of 91% lasted one sample and is back to 12%",
			Time: T0, Reason: "CPU spike of 91% lasted one sample and is back to 12%", Confidence: 0.8, Analyzer: "threshold",
			Event: envelope("HemoStat-Analyzer", "false_alarm", map[string]any{"container": "worker",
				"reason": "CPU spike of 91% lasted one sample and is back to 12%", "analyzer": "threshold", "confidence": 0.8}),
		}},
		{"escalation_breaker", sdk.Notification{
			Type: "escalation", Kind: sdk.KindEscalationBreaker, Severity: sdk.SeverityCritical, Container: "api", Host: "docker-01",
			Title: "api needs a person", Text: "circuit breaker open: 5 actions within 1h0m0s\nIssues: Exited with code 1",
			Time: T0, Action: "restart", Reason: "circuit breaker open: 5 actions within 1h0m0s",
			Figures: []sdk.Figure{{Name: "Issues", Value: "Exited with code 1"}},
			Event: envelope("HemoStat-Responder", "escalation", map[string]any{"container": "api",
				"reason": "circuit breaker open: 5 actions within 1h0m0s", "source": "circuit_breaker", "action": "restart", "issues": issues}),
		}},
		{"escalation_restart_loop", sdk.Notification{
			Type: "escalation", Kind: sdk.KindEscalationRestartLoop, Severity: sdk.SeverityCritical, Container: "api",
			Title: "api needs a person", Text: "restart loop: 3 restarts within 15m; restarting again will not help\nIssues: Restart loop: 5 restarts in 10m0s",
			Time: T0, Reason: "restart loop: 3 restarts within 15m; restarting again will not help", Analyzer: "threshold",
			Figures: []sdk.Figure{{Name: "Issues", Value: "Restart loop: 5 restarts in 10m0s"}},
			Event: envelope("HemoStat-Analyzer", "escalation", map[string]any{"container": "api",
				"reason": "restart loop: 3 restarts within 15m; restarting again will not help", "source": "analyzer",
				"issues": []string{"Restart loop: 5 restarts in 10m0s"}, "analyzer": "threshold"}),
		}},
		{"plugin_trouble", sdk.Notification{
			Type: sdk.TypeHemostatd, Kind: sdk.KindPluginTrouble, Severity: sdk.SeverityCritical, Host: "node-1",
			Title: "analyzer plugin llm keeps failing", Text: "2 failures in a row, none after it ran 1m0s; hemostatd keeps restarting it.",
			Time: T0, Error: "plugin exited",
			Figures: []sdk.Figure{{Name: "Plugin", Value: "analyzer/llm"}, {Name: "Failures in a row", Value: "2"}, {Name: "Restarts", Value: "1"}},
		}},
		{"plugin_recovered", sdk.Notification{
			Type: sdk.TypeHemostatd, Kind: sdk.KindPluginTrouble, Severity: sdk.SeverityInfo, Status: sdk.StatusRecovered, Host: "node-1",
			Title: "analyzer plugin llm works again", Text: "it has run 1m0s without failing, after 4 failures in a row", Time: T0,
			Figures: []sdk.Figure{{Name: "Plugin", Value: "analyzer/llm"}, {Name: "Failures in a row", Value: "4"}, {Name: "Restarts", Value: "4"}},
		}},
		{"redis_trouble", sdk.Notification{
			Type: sdk.TypeHemostatd, Kind: sdk.KindRedisTrouble, Severity: sdk.SeverityCritical, Host: "node-1",
			Title: "Redis unreachable", Text: "hemostatd has not reached Redis for 30s. It keeps trying; meanwhile the roles cannot pass alerts to one another.",
			Time: T0, FirstTime: T0.Add(-30 * time.Second), Error: "dial tcp 127.0.0.1:6379: connect: connection refused",
			Figures: []sdk.Figure{{Name: "Unreachable for", Value: "30s"}},
		}},
		{"redis_recovered", sdk.Notification{
			Type: sdk.TypeHemostatd, Kind: sdk.KindRedisTrouble, Severity: sdk.SeverityInfo, Status: sdk.StatusRecovered, Host: "node-1",
			Title: "Redis reachable again", Text: "hemostatd reached Redis again after 1m12s", Time: T0, FirstTime: T0.Add(-72 * time.Second),
			Figures: []sdk.Figure{{Name: "Unreachable for", Value: "1m12s"}},
		}},
		{"storm", Storm(50)},
	}
}

// Storm is a storm summary of n containers, each restarted once, the first
// two twice.
func Storm(n int) sdk.Notification {
	var items []sdk.SummaryItem
	text := ""
	for i := range n {
		c := fmt.Sprintf("web-%02d", i)
		it := sdk.SummaryItem{Container: c, Kind: sdk.KindRemediationSuccess, Severity: sdk.SeverityInfo, Title: c + ": restart succeeded", Count: 1}
		if i < 2 {
			it.Count = 2
		}
		items = append(items, it)
		if i > 0 {
			text += "\n"
		}
		text += it.Title
	}
	return sdk.Notification{
		Type: sdk.TypeSummary, Kind: sdk.KindStorm, Severity: sdk.SeverityInfo,
		Title: fmt.Sprintf("Storm: %d containers, %d notifications in 10s", n, n+2), Text: text,
		Time: T0, FirstTime: T0.Add(-10 * time.Second), Count: n + 2, Summary: items,
		Figures: []sdk.Figure{{Name: sdk.KindRemediationSuccess, Value: fmt.Sprint(n + 2)}},
	}
}
