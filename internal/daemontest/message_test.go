package daemontest

import (
	"encoding/json"
	"testing"

	"github.com/hemostat/hemostat/host/protocol"
)

// message decodes an envelope as the watcher does.
func message(t *testing.T, eventType, raw string) Message {
	t.Helper()
	m := Message{Channel: protocol.Channel(eventType), Raw: raw}
	if err := json.Unmarshal([]byte(raw), &m.Env); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMessageSummary(t *testing.T) {
	for _, tc := range []struct {
		eventType, raw, want string
	}{
		{protocol.TypeHealthAlert, `{"data":{"container":"c","issues":["Exited with code 3"]}}`, "health_alert Exited with code 3"},
		{protocol.TypeHealthAlert, `{"data":{"container":"c","issues":["High CPU: 92.5%","High memory: 71%"]}}`, "health_alert High CPU: N%; High memory: N%"},
		{protocol.TypeRemediationNeeded, `{"data":{"container":"c","action":"restart"}}`, "remediation_needed restart"},
		{protocol.TypeRemediationComplete, `{"data":{"container":"c","action":"restart","result":{"status":"success"}}}`, "remediation_complete restart success"},
		{protocol.TypeEscalation, `{"data":{"container":"c","source":"circuit_breaker","action":"restart"}}`, "escalation circuit_breaker restart"},
		{protocol.TypeFalseAlarm, `{"data":{"container":"c","reason":"spike"}}`, "false_alarm"},
		{protocol.TypeRemediationComplete, `{"data":"not an object"}`, "remediation_complete  "},
	} {
		if got := message(t, tc.eventType, tc.raw).Summary(); got != tc.want {
			t.Errorf("Summary(%s) = %q, want %q", tc.raw, got, tc.want)
		}
	}
}

func TestMessageFields(t *testing.T) {
	m := message(t, protocol.TypeRemediationComplete,
		`{"agent":"a","data":{"container":"web","result":{"status":"deferred","retry_at":"later"},"issues":["x",7]}}`)
	if m.Type() != protocol.TypeRemediationComplete || m.Container() != "web" {
		t.Errorf("Type, Container = %q, %q", m.Type(), m.Container())
	}
	if got := m.Str("result", "retry_at"); got != "later" {
		t.Errorf(`Str("result", "retry_at") = %q`, got)
	}
	if got := m.Str("result", "status", "deeper"); got != "" {
		t.Errorf("Str through a string = %q, want empty", got)
	}
	if m.Result()["status"] != "deferred" {
		t.Errorf("Result() = %v", m.Result())
	}
	if is := m.Issues(); len(is) != 2 || is[0] != "x" || is[1] != "" {
		t.Errorf("Issues() = %q, want x and an empty string for the number", is)
	}
	if !StatusIs("deferred")(m) || StatusIs("success")(m) {
		t.Errorf("StatusIs does not read result.status")
	}
	if junk := (Message{Channel: protocol.Channel(protocol.TypeHealthAlert), Raw: "{not json"}); junk.Container() != "" || junk.Data() != nil {
		t.Errorf("junk message has data %v", junk.Data())
	}
}
