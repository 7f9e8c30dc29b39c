package bus

import (
	"context"
	"encoding/json"
	"reflect"
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
		msgs := subscribeAlerts(t, client)
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

// subscribeAlerts subscribes to the health_alert channel and returns its
// messages once the subscription is in place.
func subscribeAlerts(t *testing.T, client redis.UniversalClient) <-chan *redis.Message {
	t.Helper()
	ctx := context.Background()
	sub := client.Subscribe(ctx, protocol.Channel(protocol.TypeHealthAlert))
	t.Cleanup(func() { sub.Close() })
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	return sub.Channel()
}

// TestRecordSamplePublishAndRead: the reads made with the alert return
// what the analyzer's own read on receipt would, the sample just written
// included, under the request ID the subscriber computes from the
// envelope it receives; with n 0, or where the writes and the publish
// cannot share a transaction (Cluster), nothing is read.
func TestRecordSamplePublishAndRead(t *testing.T) {
	forEachBackend(t, func(t *testing.T, client redis.UniversalClient) {
		ctx := context.Background()
		b := newBus(t, client, Options{})
		msgs := subscribeAlerts(t, client)
		if _, err := b.RecordAction(ctx, "api", sdk.Remediation{Action: "restart", Status: "success"}, nil, time.Hour); err != nil {
			t.Fatal(err)
		}
		base := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
		for i, n := range []int{0, 2, 2, 30} {
			s := sdk.Sample{Container: "api", Status: "running", Time: base.Add(time.Duration(i) * time.Second), CPUPct: float64(90 + i)}
			st := protocol.StatsFromSample(s)
			alert := protocol.HealthAlert{Container: "api", Issues: []string{"High CPU usage: 99.0%"}, Sample: &s}
			pre, writeErr, pubErr := b.RecordSamplePublishAndRead(ctx, &st, s, protocol.AgentMonitor, protocol.TypeHealthAlert, alert, n)
			if writeErr != nil || pubErr != nil {
				t.Fatalf("alert %d: %v, %v", i, writeErr, pubErr)
			}
			var env protocol.Envelope
			select {
			case m := <-msgs:
				var err error
				if env, err = protocol.DecodeEnvelope([]byte(m.Payload), protocol.TypeHealthAlert); err != nil {
					t.Fatal(err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("alert %d not received", i)
			}
			if n == 0 || b.cluster() {
				if pre != nil {
					t.Errorf("alert %d (n %d): read %+v, want nothing", i, n, pre)
				}
				continue
			}
			if pre == nil {
				t.Fatalf("alert %d (n %d): nothing read", i, n)
			}
			if id := protocol.RequestID(env); pre.RequestID != id {
				t.Errorf("alert %d: request ID %q, the subscriber's %q", i, pre.RequestID, id)
			}
			hist, rems, err := b.HistoryAndRemediations(ctx, "api", n)
			if err != nil {
				t.Fatal(err)
			}
			if len(pre.History) != min(n, i+1) || !reflect.DeepEqual(pre.History, hist) {
				t.Errorf("alert %d (n %d): history %+v, want the %d the analyzer reads: %+v", i, n, pre.History, min(n, i+1), hist)
			}
			if last := pre.History[len(pre.History)-1]; last.CPUPct != s.CPUPct {
				t.Errorf("alert %d: newest sample read %+v, want the one just written", i, last)
			}
			if len(pre.Remediations) != 1 || !reflect.DeepEqual(pre.Remediations, rems) {
				t.Errorf("alert %d: remediations %+v, want %+v", i, pre.Remediations, rems)
			}
		}
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
		// The destroy: the stats key goes, the sample stays in the history.
		if err := b.RecordSample(ctx, nil, sdk.Sample{Container: "quiet", Status: "removed", Event: sdk.EventDestroy, Time: time.Now().UTC()}); err != nil {
			t.Fatal(err)
		}
		if n := client.Exists(ctx, protocol.StatsKey("quiet")).Val(); n != 0 {
			t.Error("the stats key outlived the container's destroy")
		}
		if h, err := b.History(ctx, "quiet", 0); err != nil || len(h) != 3 || h[2].Event != sdk.EventDestroy {
			t.Errorf("history after the destroy: %d samples, %v; want 3, the destroy last", len(h), err)
		}
	})
}
