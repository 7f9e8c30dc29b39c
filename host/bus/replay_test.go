package bus

import (
	"context"
	"testing"
	"time"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/testenv"
)

// TestReplayAfterReconnect cuts the bus's subscription while another agent
// publishes: the envelope it missed is handed on from the event log once
// the subscription is back, exactly once, and nothing received before the
// cut is handed on again.
func TestReplayAfterReconnect(t *testing.T) {
	srv := testenv.StartRedis(t)
	client := srv.Client(t)
	ctx := context.Background()
	b := newBus(t, client, Options{RetryInitial: 500 * time.Millisecond, RetryMax: 10})
	var got collector
	b.Subscribe(protocol.TypeRemediationNeeded, got.handle)
	stop := startRun(t, b)
	waitSubscribed(t, client, 1, protocol.TypeRemediationNeeded)

	other := newBus(t, srv.Client(t), Options{})
	publish := func(container string) {
		t.Helper()
		data := protocol.RemediationNeeded{Container: container, Action: "restart", Confidence: 0.9}
		if _, err := other.Publish(ctx, "Other-Analyzer", protocol.TypeRemediationNeeded, data); err != nil {
			t.Fatal(err)
		}
		if err := other.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	publish("before")
	waitFor(t, "the envelope published before the cut", func() bool { return got.len() == 1 })

	// A network blip: Redis keeps its data, the subscription is cut.
	if err := client.Do(ctx, "CLIENT", "KILL", "TYPE", "pubsub").Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the bus to notice the cut", func() bool {
		return client.PubSubNumSub(ctx, protocol.Channel(protocol.TypeRemediationNeeded)).Val()[protocol.Channel(protocol.TypeRemediationNeeded)] == 0
	})
	publish("during")
	waitSubscribed(t, client, 1, protocol.TypeRemediationNeeded)
	publish("after")
	waitFor(t, "the missed and the later envelope", func() bool { return got.len() >= 3 })
	time.Sleep(100 * time.Millisecond)

	var containers []string
	for _, env := range got.all() {
		var d protocol.RemediationNeeded
		if err := protocol.DecodeData(env, &d); err != nil {
			t.Fatal(err)
		}
		containers = append(containers, d.Container)
	}
	if len(containers) != 3 || containers[0] != "before" || containers[1] != "during" || containers[2] != "after" {
		t.Errorf("handled %v, want [before during after]", containers)
	}
	// "after" may reach the log before the replay reads it; then the replay
	// hands it on and its live copy is dropped. Either way once.
	if n := counterValue(t, b.metrics.replayed); n != 1 && n != 2 {
		t.Errorf("replayed = %v, want 1 (or 2 when the replay saw the later envelope too)", n)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func TestRecentForgetsTheOldest(t *testing.T) {
	r := newRecent()
	for i := range recentSize + 10 {
		r.add(string(rune('a'+i%26)) + string(rune(i)))
	}
	if r.has("a" + string(rune(0))) {
		t.Error("the oldest payload is still remembered after the ring wrapped")
	}
	last := recentSize + 9
	if !r.has(string(rune('a'+last%26)) + string(rune(last))) {
		t.Error("the newest payload is forgotten")
	}
	if len(r.set) > recentSize {
		t.Errorf("set holds %d hashes, more than the ring's %d", len(r.set), recentSize)
	}
}
