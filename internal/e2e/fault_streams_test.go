package e2e

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/bus"
	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/daemontest"
	"github.com/hemostat/hemostat/internal/testenv"
)

// TestFaultRedisKilledStreams: with durable delivery on a redis-server
// that syncs every write (appendfsync always), a SIGKILL mid-flow loses
// nothing Redis acknowledged: every alert whose XADD was answered is
// decided once the server is back, the pending entries taken up again.
func TestFaultRedisKilledStreams(t *testing.T) {
	const outage = 5 * time.Second
	row := daemontest.Fault(t, "redis-server SIGKILLed mid-flow, back after 5s (streams, appendfsync always)")
	srv := testenv.StartRedis(t, "--appendonly", "yes", "--appendfsync", "always")
	d := startDaemon(t, srv, streamsConfig)
	waitGroup(t, d.rdb, protocol.TypeHealthAlert)

	f := startStreamedFlow(t, srv, "sflow")
	time.Sleep(3 * time.Second)
	srv.Kill(t)
	time.Sleep(outage)
	srv.Restart(t)
	back := time.Now()
	time.Sleep(3 * time.Second)
	alerts := f.stop()

	var sent, unsent int
	var missing []string
	deadline := time.Now().Add(faultWait)
	for _, a := range alerts {
		if !a.sent {
			unsent++
			continue
		}
		sent++
		for !decidedInStreams(t, d.rdb)[a.container] {
			if time.Now().After(deadline) {
				missing = append(missing, a.container)
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	decided := len(decidedInStreams(t, d.rdb))
	row.Figure("%d alerts acknowledged by Redis (%d refused while down), %d decided, %d lost; all decided %s after the restart",
		sent, unsent, decided, len(missing), time.Since(back).Round(100*time.Millisecond))
	if len(missing) > 0 {
		t.Errorf("%d alerts Redis acknowledged were never decided: %v", len(missing), missing)
	}
	d.Alive(t)
	row.Outcome("nothing acknowledged lost: every alert Redis took was decided once it was back")
}

// waitGroup waits until hemostatd has made its consumer group on the
// stream of eventType: entries added before it are not its to read.
func waitGroup(t *testing.T, rdb *redis.Client, eventType string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		groups, _ := rdb.XInfoGroups(context.Background(), bus.StreamKey(eventType)).Result()
		for _, g := range groups {
			if g.Name == bus.StreamGroup {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("hemostatd made no consumer group on %s", bus.StreamKey(eventType))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// decidedInStreams is the set of containers a decision or escalation on
// the streams names: what Redis kept, whoever was listening.
func decidedInStreams(t *testing.T, rdb *redis.Client) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, typ := range []string{protocol.TypeRemediationNeeded, protocol.TypeFalseAlarm, protocol.TypeEscalation} {
		entries, err := rdb.XRange(context.Background(), bus.StreamKey(typ), "-", "+").Result()
		if err != nil {
			continue // Redis may still be loading its file
		}
		for _, e := range entries {
			raw, _ := e.Values[bus.StreamField].(string)
			var env protocol.Envelope
			var data struct {
				Container string `json:"container"`
			}
			if json.Unmarshal([]byte(raw), &env) == nil && json.Unmarshal(env.Data, &data) == nil {
				out[data.Container] = true
			}
		}
	}
	return out
}
