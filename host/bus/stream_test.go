package bus

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/protocol"
)

func streamsBus(t *testing.T, client redis.UniversalClient, consumer string) *Bus {
	t.Helper()
	return newBus(t, client, Options{Delivery: DeliveryStreams, Consumer: consumer})
}

// pendingCount is how many entries of a type's stream the group has not
// had acknowledged.
func pendingCount(t *testing.T, client redis.UniversalClient, eventType string) int64 {
	t.Helper()
	p, err := client.XPending(context.Background(), StreamKey(eventType), StreamGroup).Result()
	if err != nil {
		t.Fatalf("XPENDING: %v", err)
	}
	return p.Count
}

func publishN(t *testing.T, b *Bus, eventType string, n int) {
	t.Helper()
	for i := range n {
		if _, err := b.Publish(context.Background(), "test", eventType, map[string]any{"container": fmt.Sprintf("c%d", i)}); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
}

// TestStreamsPublishKeepsTheProtocol: in streams mode an envelope is still
// PUBLISHed and logged byte for byte, and is also in its stream.
func TestStreamsPublishKeepsTheProtocol(t *testing.T) {
	client := testenvClient(t)
	raw := subscribeRaw(t, client, "health_alert")
	b := streamsBus(t, client, "c1")
	env, err := b.Publish(context.Background(), "test", "health_alert", map[string]any{"container": "web"})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := string(encodeEnvelope(env))
	waitFor(t, "the subscriber to receive it", func() bool { return len(raw.all()) == 1 })
	if got := raw.all()[0]; got != want {
		t.Errorf("published %s, want %s", got, want)
	}
	logged, err := client.Get(context.Background(), protocol.EventLogKey("health_alert")).Result()
	if err != nil || logged != "["+want+"]" {
		t.Errorf("event log = %q (%v), want [%s]", logged, err, want)
	}
	entries, err := client.XRange(context.Background(), StreamKey("health_alert"), "-", "+").Result()
	if err != nil || len(entries) != 1 {
		t.Fatalf("stream = %v (%v), want one entry", entries, err)
	}
	if got := entries[0].Values[StreamField]; got != want {
		t.Errorf("stream entry %q = %v, want %s", StreamField, got, want)
	}
}

// TestPubSubPublishWritesNoStream: the default mode adds no key.
func TestPubSubPublishWritesNoStream(t *testing.T) {
	client := testenvClient(t)
	b := newBus(t, client, Options{})
	publishN(t, b, "health_alert", 1)
	if n, err := client.Exists(context.Background(), StreamKey("health_alert")).Result(); err != nil || n != 0 {
		t.Errorf("stream exists = %d (%v), want 0", n, err)
	}
}

// TestStreamsHandledOnceAndAcked: every entry reaches the handler once and
// is acknowledged after it; nothing goes through pub/sub as well.
func TestStreamsHandledOnceAndAcked(t *testing.T) {
	client := testenvClient(t)
	b := streamsBus(t, client, "c1")
	var c collector
	b.Subscribe("health_alert", c.handle)
	if err := b.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	startRun(t, b)
	const n = 300
	publishN(t, b, "health_alert", n)
	waitFor(t, "every alert handled", func() bool { return c.len() >= n })
	waitFor(t, "every entry acknowledged", func() bool { return pendingCount(t, client, "health_alert") == 0 })
	time.Sleep(200 * time.Millisecond) // a duplicate would arrive now
	seen := map[string]bool{}
	for _, env := range c.all() {
		if seen[string(env.Data)] {
			t.Errorf("handled twice: %s", env.Data)
		}
		seen[string(env.Data)] = true
	}
	if len(seen) != n {
		t.Errorf("handled %d distinct, want %d", len(seen), n)
	}
	if got := counterValue(t, b.metrics.acked.WithLabelValues("health_alert")); got != n {
		t.Errorf("acked metric = %v, want %d", got, n)
	}
}

// TestStreamsHoldDefersAck: an entry whose work a handler holds stays
// pending until the work is released.
func TestStreamsHoldDefersAck(t *testing.T) {
	client := testenvClient(t)
	b := streamsBus(t, client, "c1")
	releases := make(chan func(), 1)
	b.Subscribe("health_alert", func(ctx context.Context, _ protocol.Envelope) { releases <- Hold(ctx) })
	if err := b.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	startRun(t, b)
	publishN(t, b, "health_alert", 1)
	var release func()
	select {
	case release = <-releases:
	case <-time.After(waitTimeout):
		t.Fatal("not handled")
	}
	time.Sleep(100 * time.Millisecond) // an early acknowledgement would be in by now
	if n := pendingCount(t, client, "health_alert"); n != 1 {
		t.Fatalf("pending = %d while the work is held, want 1", n)
	}
	release()
	release() // a second call does nothing
	waitFor(t, "the entry acknowledged", func() bool { return pendingCount(t, client, "health_alert") == 0 })
}

// TestStreamsTakesUpWhatWasMissed: envelopes published while no reader
// ran, and those a reader had not finished when it stopped, are handled
// when a consumer of the same name comes back.
func TestStreamsTakesUpWhatWasMissed(t *testing.T) {
	client := testenvClient(t)
	first := streamsBus(t, client, "c1")
	var mu sync.Mutex
	var held []func()
	first.Subscribe("health_alert", func(ctx context.Context, _ protocol.Envelope) {
		mu.Lock()
		held = append(held, Hold(ctx)) // never released: the work is cut off
		mu.Unlock()
	})
	if err := first.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	stop := startRun(t, first)
	publishN(t, first, "health_alert", 3)
	waitFor(t, "three alerts under way", func() bool { mu.Lock(); defer mu.Unlock(); return len(held) == 3 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	publishN(t, first, "health_alert", 2) // while nobody reads

	second := streamsBus(t, client, "c1")
	var c collector
	second.Subscribe("health_alert", c.handle)
	startRun(t, second)
	waitFor(t, "all five handled", func() bool { return c.len() >= 5 })
	waitFor(t, "all acknowledged", func() bool { return pendingCount(t, client, "health_alert") == 0 })
	time.Sleep(200 * time.Millisecond)
	if c.len() != 5 {
		t.Errorf("handled %d, want 5", c.len())
	}
}

// TestStreamsClaimsFromADeadConsumer: entries another consumer left
// pending longer than ClaimMinIdle are claimed and handled.
func TestStreamsClaimsFromADeadConsumer(t *testing.T) {
	client := testenvClient(t)
	dead := streamsBus(t, client, "dead")
	got := make(chan struct{}, 10)
	dead.Subscribe("health_alert", func(ctx context.Context, _ protocol.Envelope) {
		Hold(ctx) // never released: this consumer dies with it
		got <- struct{}{}
	})
	if err := dead.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	stop := startRun(t, dead)
	publishN(t, dead, "health_alert", 2)
	for range 2 {
		select {
		case <-got:
		case <-time.After(waitTimeout):
			t.Fatal("the first consumer did not receive")
		}
	}
	stop()

	live := newBus(t, client, Options{Delivery: DeliveryStreams, Consumer: "live", ClaimMinIdle: 300 * time.Millisecond})
	var c collector
	live.Subscribe("health_alert", c.handle)
	startRun(t, live)
	waitFor(t, "both claimed and handled", func() bool { return c.len() >= 2 })
	waitFor(t, "both acknowledged", func() bool { return pendingCount(t, client, "health_alert") == 0 })
	if n := counterValue(t, live.metrics.claimed.WithLabelValues("health_alert")); n != 2 {
		t.Errorf("claimed metric = %v, want 2", n)
	}
	time.Sleep(time.Second) // more claim rounds: nothing is taken twice
	if c.len() != 2 {
		t.Errorf("handled %d, want 2", c.len())
	}
}

// TestStreamsSkipsBadEntries: an entry without the envelope field, or
// with one that is not a valid envelope, is counted, acknowledged and
// skipped; the next valid one is handled.
func TestStreamsSkipsBadEntries(t *testing.T) {
	client := testenvClient(t)
	b := streamsBus(t, client, "c1")
	var c collector
	b.Subscribe("health_alert", c.handle)
	if err := b.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	startRun(t, b)
	ctx := context.Background()
	key := StreamKey("health_alert")
	for _, values := range [][]any{
		{"something", "else"},
		{StreamField, "{not json"},
		{StreamField, `{"timestamp":"2026-01-01T00:00:00Z","agent":"x","type":"false_alarm","data":{}}`},
	} {
		if err := client.XAdd(ctx, &redis.XAddArgs{Stream: key, Values: values}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	publishN(t, b, "health_alert", 1)
	waitFor(t, "the valid one handled", func() bool { return c.len() == 1 })
	waitFor(t, "all four acknowledged", func() bool { return pendingCount(t, client, "health_alert") == 0 })
	if b.Invalid() != 3 {
		t.Errorf("Invalid() = %d, want 3", b.Invalid())
	}
	for _, reason := range []string{"missing_field", "malformed_json", "wrong_type"} {
		if n := counterValue(t, b.metrics.invalid.WithLabelValues("health_alert", reason)); n != 1 {
			t.Errorf("invalid{reason=%q} = %v, want 1", reason, n)
		}
	}
}

// TestStreamsRecreatesADeletedGroup: a group destroyed under the bus is
// created again, from the last entry read, and reading goes on.
func TestStreamsRecreatesADeletedGroup(t *testing.T) {
	client := testenvClient(t)
	b := streamsBus(t, client, "c1")
	var c collector
	b.Subscribe("health_alert", c.handle)
	if err := b.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	startRun(t, b)
	publishN(t, b, "health_alert", 1)
	waitFor(t, "the first handled", func() bool { return c.len() == 1 })
	waitFor(t, "acknowledged", func() bool { return pendingCount(t, client, "health_alert") == 0 })
	if err := client.XGroupDestroy(context.Background(), StreamKey("health_alert"), StreamGroup).Err(); err != nil {
		t.Fatal(err)
	}
	publishN(t, b, "health_alert", 2)
	waitFor(t, "the two published after the deletion handled", func() bool { return c.len() == 3 })
	if n := counterValue(t, b.metrics.groupsRecreated.WithLabelValues("health_alert")); n != 1 {
		t.Errorf("groups recreated = %v, want 1", n)
	}
	time.Sleep(200 * time.Millisecond)
	if c.len() != 3 {
		t.Errorf("handled %d, want 3", c.len())
	}
}
