package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/daemontest"
	"github.com/hemostat/hemostat/internal/testenv"
)

// TestShutdownReportsActionCutOff: SIGTERM while a remediation hangs in
// its responder plugin. Past the shutdown grace the action is cut off;
// it must be reported failed on Redis, with the reason, and hemostatd
// must exit non-zero, since work was abandoned.
func TestShutdownReportsActionCutOff(t *testing.T) {
	srv := testenv.StartRedis(t)
	cfg := strings.Replace(baseConfig, `config { fail = ["doomed"] }`,
		`timeout = "5m"
    config { hang = ["stuck"] }`, 1)
	d := startDaemon(t, srv, cfg)
	w := daemontest.Watch(t, d.rdb)
	waitSubscribers(t, d, protocol.TypeRemediationNeeded, 1)

	env, err := protocol.NewEnvelope(protocol.AgentAnalyzer, protocol.TypeRemediationNeeded,
		protocol.RemediationNeeded{Container: "stuck", Action: "restart", Reason: "crashed", Confidence: 0.9, Issues: []string{protocol.IssueExited(1)}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(env)
	if err := d.rdb.Publish(context.Background(), protocol.Channel(protocol.TypeRemediationNeeded), raw).Err(); err != nil {
		t.Fatal(err)
	}
	// The plugin records the request before it hangs.
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(d.rdb.Get(context.Background(), protocol.StateKey("e2e-remediations")).Val(), "stuck") {
		if time.Now().After(deadline) {
			t.Fatal("the responder plugin never got the request")
		}
		time.Sleep(20 * time.Millisecond)
	}

	if err := d.Stop(); err == nil {
		t.Errorf("hemostatd exited cleanly after abandoning an action under way; want a non-zero exit")
	}
	done := w.WaitFor(t, protocol.TypeRemediationComplete, "stuck", nil, 5*time.Second)
	if done.Str("result", "status") != "failed" || !strings.Contains(done.Str("result", "error"), "shutdown") {
		t.Errorf("remediation_complete = %s, want failed, cut off by the shutdown", done.Raw)
	}
	if !strings.Contains(d.Logs(), "cut off") {
		t.Errorf("hemostatd's log does not say the action was cut off")
	}
}
