package e2e

import (
	"context"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/daemontest"
	"github.com/hemostat/hemostat/internal/testenv"
)

// faultWait bounds each wait of the fault tests: generous, since the
// machine running them may be busy with other work.
const faultWait = 90 * time.Second

// TestFaultDuplicateAlerts: one alert published 10 000 times — a monitor
// retrying its PUBLISH in a loop — is one incident: exactly one action,
// the copies counted and skipped.
func TestFaultDuplicateAlerts(t *testing.T) {
	const copies = 10_000
	row := daemontest.Fault(t, "10 000 copies of one alert for one container")
	srv := testenv.StartRedis(t)
	d := startDaemon(t, srv, baseConfig)
	w := daemontest.Watch(t, d.rdb)
	waitSubscribers(t, d, protocol.TypeHealthAlert, 1)

	env, err := protocol.NewEnvelope(protocol.AgentMonitor, protocol.TypeHealthAlert, protocol.HealthAlert{
		Container: "dup", Issues: []string{protocol.IssueExited(1)},
		Metrics: map[string]any{"name": "dup", "status": "exited", "cpu_pct": 0.0, "memory_pct": 1.5, "timestamp": "2025-11-03T10:30:45"},
	}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(env)
	ctx := context.Background()
	start := time.Now()
	for i := 0; i < copies; i += 1000 {
		p := d.rdb.Pipeline()
		for range 1000 {
			p.Publish(ctx, protocol.Channel(protocol.TypeHealthAlert), raw)
		}
		if _, err := p.Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	w.WaitFor(t, protocol.TypeRemediationComplete, "dup", daemontest.StatusIs("success"), 60*time.Second)
	// Every copy handled: counted as a duplicate or judged.
	dupRe := regexp.MustCompile(`(?m)^hemostat_analyzer_duplicate_alerts_total (\d+)`)
	var dups int
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if m := dupRe.FindStringSubmatch(d.Metrics(t)); m != nil {
			dups, _ = strconv.Atoi(m[1])
		}
		if dups >= copies-1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	drained := time.Since(start)
	// Longer than the responder's backoff (10 s): a deferred copy would
	// be re-checked and acted on within it.
	w.Quiet(t, "dup", 15*time.Second, 2*time.Minute)

	var recorded []struct {
		Container string `json:"container"`
	}
	if err := json.Unmarshal([]byte(d.rdb.Get(ctx, protocol.StateKey("e2e-remediations")).Val()), &recorded); err != nil {
		t.Fatalf("read the responder plugin's record: %v", err)
	}
	actions := 0
	for _, r := range recorded {
		if r.Container == "dup" {
			actions++
		}
	}
	needed := w.Count(protocol.TypeRemediationNeeded, "dup")
	completes := w.Count(protocol.TypeRemediationComplete, "dup")
	row.Figure("%d copies sent: %d judged, %d skipped as duplicates in %s", copies, needed, dups, drained.Round(100*time.Millisecond))
	row.Figure("%d action(s), %d remediation_complete", actions, completes)
	if actions != 1 || needed != 1 || completes != 1 {
		t.Errorf("%d copies of one alert: %d remediation_needed, %d actions, %d remediation_complete; want exactly one each:\n%s",
			copies, needed, actions, completes, strings.Join(w.Trace("dup"), "\n"))
	}
	if dups != copies-1 {
		t.Errorf("hemostat_analyzer_duplicate_alerts_total = %d, want %d", dups, copies-1)
	}
	d.Alive(t)
	row.Outcome("one action; the copies counted in hemostat_analyzer_duplicate_alerts_total and skipped")
}

// outcomeOf names what an envelope says happened: its type, and the
// result's status when it has one.
func outcomeOf(m daemontest.Message) string {
	if s := m.Str("result", "status"); s != "" {
		return m.Type() + " " + s
	}
	return m.Type()
}
