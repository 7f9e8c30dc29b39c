package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/bus"
	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/daemontest"
	"github.com/hemostat/hemostat/internal/testenv"
)

// TestFaultStreamsBadEntryAndDeletedGroup: with durable delivery, a
// stream entry without its envelope field and one whose envelope is not
// JSON are counted, acknowledged and skipped, and the alert after them is
// decided; then the consumer group is deleted under hemostatd: it is
// created again, logged and counted, and the alert published after the
// deletion is decided.
func TestFaultStreamsBadEntryAndDeletedGroup(t *testing.T) {
	row := daemontest.Fault(t, "stream entries without their envelope field or with a malformed one, then the consumer group deleted under hemostatd (streams)")
	srv := testenv.StartRedis(t)
	d := startDaemon(t, srv, streamsConfig)
	w := daemontest.Watch(t, d.rdb)
	waitGroup(t, d.rdb, protocol.TypeHealthAlert)
	ctx := context.Background()
	key := bus.StreamKey(protocol.TypeHealthAlert)
	for _, values := range [][]any{{"something", "else"}, {bus.StreamField, "{not json"}} {
		if err := d.rdb.XAdd(ctx, &redis.XAddArgs{Stream: key, Values: values}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	publishStreamed(t, d.rdb, protocol.HealthAlert{Container: "after-bad", Issues: []string{protocol.IssueExited(3)}})
	w.WaitFor(t, protocol.TypeRemediationNeeded, "after-bad", nil, faultWait)
	m := d.Metrics(t)
	missing := metricValue(m, `hemostat_bus_invalid_messages_total{reason="missing_field",type="health_alert"}`)
	malformed := metricValue(m, `hemostat_bus_invalid_messages_total{reason="malformed_json",type="health_alert"}`)
	if missing != 1 || malformed != 1 {
		t.Errorf("invalid entries counted: missing_field %d, malformed_json %d; want 1 and 1", missing, malformed)
	}

	if err := d.rdb.XGroupDestroy(ctx, key, bus.StreamGroup).Err(); err != nil {
		t.Fatal(err)
	}
	deleted := time.Now()
	publishStreamed(t, d.rdb, protocol.HealthAlert{Container: "after-delete", Issues: []string{protocol.IssueExited(3)}})
	decided := w.WaitFor(t, protocol.TypeRemediationNeeded, "after-delete", nil, faultWait)
	recreated := metricValue(d.Metrics(t), `hemostat_bus_stream_groups_recreated_total{type="health_alert"}`)
	if recreated != 1 {
		t.Errorf("hemostat_bus_stream_groups_recreated_total{type=health_alert} = %d, want 1", recreated)
	}
	if !strings.Contains(d.Logs(), "consumer group was deleted; created it again") {
		t.Errorf("hemostatd's log does not tell of the group created again")
	}
	waitPendingZero(t, d.rdb)
	d.Alive(t)
	row.Figure("invalid entries counted: %d missing_field, %d malformed_json, none left pending; the alert after them decided", missing, malformed)
	row.Figure("group recreated %d time(s), logged; the alert published after the deletion decided %s after it", recreated, decided.At.Sub(deleted).Round(time.Millisecond))
	row.Outcome("bad entries logged, counted, acknowledged and skipped; the deleted group created again from the last entry read, logged and counted; nothing after either lost")
}

// waitPendingZero waits until no health_alert entry is pending.
func waitPendingZero(t *testing.T, rdb *redis.Client) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		p, err := rdb.XPending(context.Background(), bus.StreamKey(protocol.TypeHealthAlert), bus.StreamGroup).Result()
		if err == nil && p.Count == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("health_alert entries pending = %+v (%v), want none", p, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
