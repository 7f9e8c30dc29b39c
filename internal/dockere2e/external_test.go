package dockere2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/daemontest"
)

// testExternalMonitor: another monitor, not hemostatd's, publishes
// health_alerts in its own words about a real container hemostatd's
// monitor does not watch — carrying only the protocol's issues and
// metrics. hemostatd judges each by the threshold analyzer and acts on
// the real engine: "Container exited with code 1" and an unknown "Service
// down" whose metrics.status says exited are each restarted; "Service
// down" whose metrics.status says restarting is a false alarm (Docker's
// restart policy has it); none is "no rule".
func testExternalMonitor(t *testing.T) {
	e := newEngine(t)
	p := scenarioPrefix()
	d := startDaemon(t, p, newSettings())
	// Out of the monitor's scope (the name does not start with p): only
	// the external monitor reports it.
	name := "hsx" + strings.TrimPrefix(p, "hse2e") + "down"
	id := e.run(t, name, []string{"--exit", "1", "--after", "1s"}, nil, nil)
	waitSubscribed(t, d, alertType)

	cases := []struct {
		issue   string
		metrics map[string]any
	}{
		{"Container exited with code 1", map[string]any{"status": "exited"}},
		{"Service down", map[string]any{"status": "exited", "exit_code": 1}},
	}
	for _, c := range cases {
		e.waitState(t, id, "exited", exited, 30*time.Second)
		before := e.startedAt(t, id)
		mark := d.watch.Len()
		publishExternal(t, d, name, c.issue, c.metrics)
		need := d.watch.AwaitAfter(t, mark, neededType, name, nil, 30*time.Second)
		if need.Str("action") != "restart" || strings.Contains(need.Str("reason"), "no rule") {
			t.Errorf("%q: remediation_needed %s, want a restart judged by a rule", c.issue, need.Raw)
		}
		d.watch.AwaitAfter(t, mark, completeType, name, daemontest.StatusIs("success"), 30*time.Second)
		e.expectRestarted(t, id, before)
	}

	mark := d.watch.Len()
	publishExternal(t, d, name, "Service down", map[string]any{"status": "restarting"})
	fa := d.watch.AwaitAfter(t, mark, protocol.TypeFalseAlarm, name, nil, 30*time.Second)
	if r := fa.Str("reason"); strings.Contains(r, "no rule") || !strings.Contains(strings.ToLower(r), "restart") {
		t.Errorf("false_alarm %s, want a reason naming Docker's restart", fa.Raw)
	}
	t.Logf("envelopes about %s:\n%s", name, d.watch.Dump(name))
}

// publishExternal publishes a health_alert as a monitor other than
// hemostatd's would: the protocol's fields only.
func publishExternal(t *testing.T, d *daemon, name, issue string, metrics map[string]any) {
	t.Helper()
	raw, err := json.Marshal(map[string]any{
		"timestamp": time.Now().UTC().Format("2006-01-02T15:04:05.000000"),
		"agent":     "External-Monitor",
		"type":      alertType,
		"data":      map[string]any{"container": name, "issues": []string{issue}, "metrics": metrics},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.rdb.Publish(ctx, protocol.Channel(alertType), raw).Err(); err != nil {
		t.Fatal(err)
	}
}

// waitSubscribed waits until hemostatd listens on the channel of each
// event type.
func waitSubscribed(t testing.TB, d *daemon, eventTypes ...string) {
	t.Helper()
	daemontest.WaitSubscribed(t, d.rdb, eventTypes...)
}
