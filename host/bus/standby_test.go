package bus

import (
	"context"
	"testing"
)

// TestStreamsStandbyReadsNothing: two consumers of one group, one of them
// a standby (ReadWhile false): every entry goes to the active one. Without
// the pause the group would split them between both.
func TestStreamsStandbyReadsNothing(t *testing.T) {
	client := testenvClient(t)
	active := streamsBus(t, client, "active")
	standby := newBus(t, client, Options{Delivery: DeliveryStreams, Consumer: "standby", ReadWhile: func() bool { return false }})
	var got, dropped collector
	active.Subscribe("health_alert", got.handle)
	standby.Subscribe("health_alert", dropped.handle)
	for _, b := range []*Bus{active, standby} {
		if err := b.Prepare(context.Background()); err != nil {
			t.Fatal(err)
		}
		startRun(t, b)
	}
	const n = 200
	publishN(t, active, "health_alert", n)
	waitFor(t, "every alert handled by the active consumer", func() bool { return got.len() >= n })
	waitFor(t, "every entry acknowledged", func() bool { return pendingCount(t, client, "health_alert") == 0 })
	if k := dropped.len(); k != 0 {
		t.Fatalf("the standby read %d entries, want none", k)
	}
}
