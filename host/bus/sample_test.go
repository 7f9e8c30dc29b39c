package bus

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/sdk"
)

// RecordSampleAndPublish: the subscriber that reads the history when the
// alert arrives finds the sample that raised it, the stats key holds it,
// and the history stays capped, on every backend (a Cluster takes the
// path of separate round trips).
func TestRecordSampleAndPublish(t *testing.T) {
	forEachBackend(t, func(t *testing.T, client redis.UniversalClient) {
		ctx := context.Background()
		b := newBus(t, client, Options{})
		sub := client.Subscribe(ctx, protocol.Channel(protocol.TypeHealthAlert))
		t.Cleanup(func() { sub.Close() })
		if _, err := sub.Receive(ctx); err != nil {
			t.Fatal(err)
		}
		msgs := sub.Channel()
		base := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
		const n = protocol.HistoryMax + 3
		for i := range n {
			s := sdk.Sample{Container: "api", Status: "running", Time: base.Add(time.Duration(i) * time.Second), CPUPct: float64(i)}
			st := protocol.StatsFromSample(s)
			alert := protocol.HealthAlert{Container: "api", Issues: []string{"High CPU usage: 99.0%"}, Sample: &s}
			writeErr, pubErr := b.RecordSampleAndPublish(ctx, &st, s, protocol.AgentMonitor, protocol.TypeHealthAlert, alert)
			if writeErr != nil || pubErr != nil {
				t.Fatalf("RecordSampleAndPublish: %v, %v", writeErr, pubErr)
			}
			select {
			case m := <-msgs:
				env, err := protocol.DecodeEnvelope([]byte(m.Payload), protocol.TypeHealthAlert)
				if err != nil {
					t.Fatal(err)
				}
				var got protocol.HealthAlert
				if err := protocol.DecodeData(env, &got); err != nil || got.Sample == nil || got.Sample.CPUPct != float64(i) {
					t.Fatalf("alert %d: %+v, %v", i, got, err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("alert %d not received", i)
			}
			// Read on receipt: the sample is already there.
			h, err := b.History(ctx, "api", 1)
			if err != nil || len(h) != 1 || h[0].CPUPct != float64(i) {
				t.Fatalf("history on receipt of alert %d: %+v, %v", i, h, err)
			}
			got, ok, err := b.Stats(ctx, "api")
			if err != nil || !ok || got.CPUPct != float64(i) {
				t.Fatalf("stats on receipt of alert %d: %+v %v %v", i, got, ok, err)
			}
		}
		if got := client.LLen(ctx, protocol.HistoryKey("api")).Val(); got != protocol.HistoryMax {
			t.Errorf("history holds %d samples, want %d", got, protocol.HistoryMax)
		}
		checkTTL(t, client, protocol.HistoryKey("api"), protocol.HistoryTTL)
		checkTTL(t, client, protocol.StatsKey("api"), protocol.StatsTTL)
	})
}

// RecordSample without stats (an opted-out container) writes the history
// only; with them, both, in one call.
func TestRecordSample(t *testing.T) {
	forEachBackend(t, func(t *testing.T, client redis.UniversalClient) {
		ctx := context.Background()
		b := newBus(t, client, Options{})
		s := sdk.Sample{Container: "quiet", Status: "running", Time: time.Now().UTC(), MemoryPct: 12.5}
		if err := b.RecordSample(ctx, nil, s); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := b.Stats(ctx, "quiet"); ok || err != nil {
			t.Errorf("stats written for a sample given none: %v %v", ok, err)
		}
		st := protocol.StatsFromSample(s)
		if err := b.RecordSample(ctx, &st, s); err != nil {
			t.Fatal(err)
		}
		raw, err := client.Get(ctx, protocol.StatsKey("quiet")).Bytes()
		var got protocol.Stats
		if err != nil || json.Unmarshal(raw, &got) != nil || got.MemoryPct != 12.5 {
			t.Errorf("stats key: %s %v", raw, err)
		}
		if h, err := b.History(ctx, "quiet", 0); err != nil || len(h) != 2 {
			t.Errorf("history: %d samples, %v; want 2", len(h), err)
		}
		if err := b.RecordSample(ctx, nil, sdk.Sample{}); err == nil {
			t.Error("a sample without a container name was stored")
		}
	})
}
