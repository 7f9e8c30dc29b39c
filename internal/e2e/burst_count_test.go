package e2e

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/hemostat/hemostat/host/protocol"
)

// TestDecidedContainer checks the burst benchmark's counter against the
// decisions it counts: hemostatd's, encoded by Go, and the Python
// relay's, and payloads that name no container.
func TestDecidedContainer(t *testing.T) {
	env, err := protocol.NewEnvelope(protocol.AgentAnalyzer, protocol.TypeRemediationNeeded, protocol.RemediationNeeded{
		Container: "hemo-5000-1-17", Action: "restart", Reason: `a "quoted" reason`,
		Metrics: map[string]any{"name": "hemo-5000-1-17"},
	}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	goEncoded, _ := json.Marshal(env)
	tests := []struct{ payload, want string }{
		{string(goEncoded), "hemo-5000-1-17"},
		{`{"timestamp": "2025-11-03T10:30:45.123456", "agent": "Relay", "type": "remediation_needed", "data": {"container": "relay-5000-1-3", "action": "restart"}}`, "relay-5000-1-3"},
		{`{"type": "false_alarm", "data": {"reason": "x"}}`, ""},
		{`{"data": {"container": 7}}`, ""},
		{`{"data": {"container": "cut`, ""},
	}
	for _, tt := range tests {
		if got := decidedContainer(tt.payload); got != tt.want {
			t.Errorf("decidedContainer(%s) = %q, want %q", tt.payload, got, tt.want)
		}
	}
}
