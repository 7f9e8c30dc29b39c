package role

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hemostat/hemostat/host/bus"
	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/testenv"
	"github.com/hemostat/hemostat/sdk"
)

// gatedNotifier delivers only when the test lets it.
type gatedNotifier struct {
	started chan sdk.Notification
	release chan struct{}
}

func (*gatedNotifier) Configure(context.Context, json.RawMessage, sdk.Host) error { return nil }
func (g *gatedNotifier) Notify(ctx context.Context, n sdk.Notification) error {
	g.started <- n
	select {
	case <-g.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// TestAlertAcknowledgesAfterDelivery: with durable delivery a notification's
// stream entry stays pending while the alert plugin delivers it, so a
// hemostatd that dies meanwhile leaves it to be told by the next one; it
// is acknowledged once delivered.
func TestAlertAcknowledgesAfterDelivery(t *testing.T) {
	srv := testenv.StartRedis(t)
	rdb := srv.Client(t)
	ctx, cancel := context.WithCancel(context.Background())
	b := bus.New(srv.Client(t), bus.Options{Logger: hclog.NewNullLogger(), Delivery: bus.DeliveryStreams, Consumer: "alert-test"})
	notifier := &gatedNotifier{started: make(chan sdk.Notification, 1), release: make(chan struct{})}
	al := &Alert{Bus: b, Routes: []Route{{Name: "gated", Notifier: notifier}}, DedupeWindow: time.Minute, Logger: hclog.NewNullLogger()}
	al.Register(ctx)
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() {
		close(notifier.release)
		al.Close()
		cancel()
		<-done
		b.Close(context.Background())
	})

	pending := func() int64 {
		p, err := rdb.XPending(ctx, bus.StreamKey(protocol.TypeRemediationComplete), bus.StreamGroup).Result()
		if err != nil {
			return -1 // the group is made when the bus runs
		}
		return p.Count
	}
	data := protocol.RemediationComplete{Container: "api", Action: "restart", Result: protocol.Result{Status: sdk.StatusSuccess}}
	// The bus creates its groups as it starts: publish once it reads.
	deadline := time.Now().Add(10 * time.Second)
	for pending() < 0 {
		if time.Now().After(deadline) {
			t.Fatal("the bus never created its consumer group")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := b.Publish(ctx, protocol.AgentResponder, protocol.TypeRemediationComplete, data); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-notifier.started:
		if n.Container != "api" {
			t.Fatalf("delivering %+v, want api's result", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the alert plugin was never asked")
	}
	// The handler returned long ago; the delivery is under way.
	time.Sleep(200 * time.Millisecond)
	if n := pending(); n != 1 {
		t.Fatalf("%d entries pending while the plugin delivers, want 1", n)
	}
	notifier.release <- struct{}{}
	deadline = time.Now().Add(10 * time.Second)
	for pending() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d entries still pending after the delivery, want 0", pending())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
