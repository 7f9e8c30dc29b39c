package bus

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hemostat/hemostat/host/protocol"
)

// logOnly appends alerts to the event log without publishing them: what a
// subscription sees when a Cluster master died between accepting a PUBLISH
// and passing it on, while the log's own master kept it.
func logOnly(t *testing.T, b *Bus, names ...string) {
	t.Helper()
	for _, name := range names {
		env, err := protocol.NewEnvelope(protocol.AgentMonitor, protocol.TypeHealthAlert,
			protocol.HealthAlert{Container: name, Issues: []string{"Container unhealthy"}}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		b.events.add(protocol.TypeHealthAlert, string(encodeEnvelope(env)))
	}
	if err := b.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%d", prefix, i)
	}
	return out
}

// TestQuietSubscriptionReplaysWhatItMissed: envelopes that were logged but
// never reached a subscription that was never cut are replayed once it is
// quiet, and what the log no longer holds is counted lost.
func TestQuietSubscriptionReplaysWhatItMissed(t *testing.T) {
	client := testenvClient(t)
	ctx := context.Background()
	sub := newBus(t, client, Options{})
	var got collector
	sub.Subscribe(protocol.TypeHealthAlert, got.handle)
	startRun(t, sub)
	waitSubscribed(t, client, 1, protocol.TypeHealthAlert)
	pub := newBus(t, client, Options{})
	if _, err := pub.Publish(ctx, protocol.AgentMonitor, protocol.TypeHealthAlert, protocol.HealthAlert{Container: "live", Issues: []string{"Container unhealthy"}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the live alert", func() bool { return got.len() == 1 })

	lost := func() float64 { return counterValue(t, sub.metrics.lost.WithLabelValues(protocol.TypeHealthAlert)) }

	// Three missed, all still in the log: replayed, none lost.
	logOnly(t, pub, names("missed", 3)...)
	waitFor(t, "the missed alerts replayed", func() bool { return got.len() == 4 },
		func() string { return fmt.Sprintf("received %d, lost %v", got.len(), lost()) })
	if n := lost(); n != 0 {
		t.Errorf("lost = %v with everything still in the log", n)
	}

	// 150 missed: the log keeps the newest 100, the rest is counted lost.
	logOnly(t, pub, names("flood", 150)...)
	waitFor(t, "the newest 100 replayed and 50 counted lost", func() bool { return got.len() == 104 && lost() == 50 },
		func() string { return fmt.Sprintf("received %d, lost %v", got.len(), lost()) })
	time.Sleep(100 * time.Millisecond)
	if got.len() != 104 {
		t.Errorf("received %d, want 104: something was handed on twice", got.len())
	}
}
