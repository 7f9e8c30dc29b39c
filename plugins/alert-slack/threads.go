package slack

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hemostat/hemostat/sdk"
)

// thread is an incident's Slack thread, kept in hemostatd's shared state.
// It holds no secret: a channel ID, a message timestamp and counts.
type thread struct {
	Channel string `json:"channel"`
	TS      string `json:"ts"`
	// Title and Severity of the parent: the first notification, raised
	// to the highest severity seen.
	Title    string    `json:"title"`
	Severity string    `json:"severity"`
	Started  time.Time `json:"started"`
	Last     time.Time `json:"last"`
	// Counts of what happened in the thread, by kind, for the status line.
	Counts map[string]int `json:"counts"`
	Latest string         `json:"latest"`
}

// threadKey is the shared-state key of a container's thread in a channel.
func threadKey(channel string, n sdk.Notification) string {
	host := n.Host
	if host == "" {
		host = "-"
	}
	clean := strings.NewReplacer(" ", "_", "*", "_", "?", "_", "[", "_", "]", "_", "{", "_", "}", "_")
	return clean.Replace("slack.thread." + channel + "." + host + "/" + n.Container)
}

// note adds a notification to the thread's counts.
func (t *thread) note(n sdk.Notification) {
	if t.Counts == nil {
		t.Counts = map[string]int{}
	}
	key := n.Kind
	if n.Kind == sdk.KindRemediationSuccess && n.Action != "" {
		key += ":" + n.Action
	}
	t.Counts[key] += max(n.Count, 1)
	t.Latest = n.Kind
	t.Last = n.Time
	if severityRank[n.Severity] > severityRank[t.Severity] {
		t.Severity = n.Severity
	}
}

var severityRank = map[string]int{sdk.SeverityInfo: 0, sdk.SeverityWarning: 1, sdk.SeverityCritical: 2}

// statusLine is what the parent says about the incident so far:
// "restarted 3× · deferred 2× — escalated".
func (t *thread) statusLine() string {
	var parts []string
	for _, action := range sortedActions(t.Counts) {
		parts = append(parts, fmt.Sprintf("%s %d×", pastTense(action), t.Counts[sdk.KindRemediationSuccess+":"+action]))
	}
	for _, p := range []struct{ kind, word string }{
		{sdk.KindRemediationSuccess, "acted"},
		{sdk.KindRemediationFailed, "failed"},
		{sdk.KindRemediationDeferred, "deferred"},
		{sdk.KindRemediationRejected, "rejected"},
		{sdk.KindRemediationSkipped, "skipped"},
		{sdk.KindRemediationDryRun, "would act"},
		{sdk.KindFalseAlarm, "false alarm"},
	} {
		if c := t.Counts[p.kind]; c > 0 {
			parts = append(parts, fmt.Sprintf("%s %d×", p.word, c))
		}
	}
	line := strings.Join(parts, " · ")
	if t.Counts[sdk.KindEscalationBreaker]+t.Counts[sdk.KindEscalationRestartLoop]+t.Counts[sdk.KindEscalation] > 0 {
		if line != "" {
			line += " — "
		}
		line += "escalated: needs a person"
	}
	return line
}

// sortedActions are the actions that succeeded in a thread, by name.
func sortedActions(counts map[string]int) []string {
	var out []string
	for k := range counts {
		if a, ok := strings.CutPrefix(k, sdk.KindRemediationSuccess+":"); ok {
			out = append(out, a)
		}
	}
	sort.Strings(out)
	return out
}

func pastTense(action string) string {
	switch action {
	case sdk.ActionRestart:
		return "restarted"
	case sdk.ActionStart:
		return "started"
	case sdk.ActionStop:
		return "stopped"
	case sdk.ActionKill:
		return "killed"
	case sdk.ActionUnpause:
		return "unpaused"
	case sdk.ActionUpdateResources:
		return "resized"
	case sdk.ActionScale:
		return "scaled"
	}
	return strings.ReplaceAll(action, "_", " ") + " done"
}
