package dockere2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
)

// testForgedRequests: whoever can write to Redis publishes
// remediation_needed for containers the safety rules protect, naming them
// by full ID, by ID prefix and by name. Every request is judged on the
// container it resolves to: rejected with the reason, container untouched.
func testForgedRequests(t *testing.T) {
	e := newEngine(t)
	p := scenarioPrefix()
	d := startDaemon(t, p, newSettings())
	protected := p + "redis"
	protectedID := e.run(t, protected, []string{"--idle"}, nil, nil)
	optOut := p + "optout"
	optOutID := e.run(t, optOut, []string{"--idle"},
		&container.Config{Labels: map[string]string{"hemostat.enable": "false"}}, nil)
	protectedBefore, optOutBefore := e.startedAt(t, protectedID), e.startedAt(t, optOutID)
	// The monitor reports the protected container (it is in scope), so
	// the host learns its ID; the opted-out one it never reports.
	waitStats(t, d, protected)

	tests := []struct {
		name, ref, resultFor, reason string
	}{
		{"protected by full ID", protectedID, protected, "protected"},
		{"protected by ID prefix", protectedID[:12], protected, "protected"},
		{"opted out by name", optOut, optOut, "opted out"},
		{"opted out by ID", optOutID, optOutID, "opted out"},
		{"opted out by ID prefix", optOutID[:16], optOutID[:16], "opted out"},
	}
	for _, tt := range tests {
		mark := d.watch.Len()
		forge(t, d, tt.ref)
		got := d.watch.AwaitAfter(t, mark, completeType, tt.resultFor, nil, 30*time.Second)
		if s := got.Str("result", "status"); s != "rejected" {
			t.Errorf("%s: status %q, want rejected: %s", tt.name, s, got.Raw)
		}
		if why := got.Str("result", "reason") + got.Str("result", "error"); !strings.Contains(why, tt.reason) {
			t.Errorf("%s: result %s does not say %q", tt.name, got.Raw, tt.reason)
		}
	}
	e.expectUntouched(t, protectedID, container.StateRunning, protectedBefore)
	e.expectUntouched(t, optOutID, container.StateRunning, optOutBefore)
}

// forge publishes a remediation_needed as any Redis client can.
func forge(t *testing.T, d *daemon, ref string) {
	t.Helper()
	env := map[string]any{
		"timestamp": time.Now().UTC().Format("2006-01-02T15:04:05.000000"),
		"agent":     "Forger",
		"type":      "remediation_needed",
		"data":      map[string]any{"container": ref, "action": "restart", "reason": "forged", "confidence": 0.99, "metrics": map[string]any{}},
	}
	raw, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.rdb.Publish(ctx, "hemostat:remediation_needed", raw).Err(); err != nil {
		t.Fatal(err)
	}
}

// waitStats waits until the monitor has written the container's stats.
func waitStats(t *testing.T, d *daemon, name string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if n, err := d.rdb.Exists(context.Background(), "hemostat:stats:"+name).Result(); err == nil && n == 1 {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("the monitor never reported %s", name)
}
