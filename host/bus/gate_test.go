package bus

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/gate"
	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/sdk"
)

// TestGateStateSurvivesTheDaemon: a gate restored from Redis by another
// daemon (a standby taking the lease) continues the same backoff step,
// keeps an open breaker open and does not announce it a second time.
func TestGateStateSurvivesTheDaemon(t *testing.T) {
	forEachBackend(t, func(t *testing.T, client redis.UniversalClient) {
		ctx := context.Background()
		b := newBus(t, client, Options{})
		t0 := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
		now := t0
		clock := func() time.Time { return now }
		p := gate.Policy{Actions: []string{"restart"},
			Backoff: gate.Backoff{Initial: 10 * time.Second, Max: 5 * time.Minute, ResetAfter: 10 * time.Minute},
			Breaker: gate.Breaker{MaxActions: 3, Window: time.Hour}}
		const web = "h1/web-1"
		req := gate.Request{Container: web, Action: "restart", Confidence: 1}
		// handover saves from's state as the responder does — alone, or
		// with the remediation record in one script — and restores it
		// in a new gate.
		handover := func(from *gate.Gate, withRecord bool) *gate.Gate {
			t.Helper()
			saved, ok := from.Save(web)
			if !ok {
				t.Fatal("the gate has nothing to save after an action")
			}
			if withRecord {
				rec, err := b.RecordAction(ctx, web, sdk.Remediation{Action: "restart", Status: "failed"}, saved, from.Retention())
				if err != nil || rec.Count != 1 {
					t.Fatalf("record with the gate state: %+v, %v", rec, err)
				}
			} else if err := b.SaveGate(ctx, web, saved, from.Retention()); err != nil {
				t.Fatal(err)
			}
			if ttl := client.TTL(ctx, protocol.GateKey(web)).Val(); ttl <= 0 || ttl > p.Breaker.Window {
				t.Errorf("gate key TTL %v, want (0, %v]: the longest of the backoff's reset and the breaker's window", ttl, p.Breaker.Window)
			}
			var back gate.Saved
			if found, err := b.LoadGate(ctx, web, &back); err != nil || !found {
				t.Fatalf("load gate state: found %v, %v", found, err)
			}
			to := gate.New(p, clock)
			to.Restore(web, &back)
			return to
		}

		g1 := gate.New(p, clock)
		g1.Record(web, "restart", "success")
		now = t0.Add(10 * time.Second)
		g1.Record(web, "restart", "success") // step 2: the next waits 20 s

		now = t0.Add(15 * time.Second)
		g2 := handover(g1, false)
		if v := gate.New(p, clock).Check(req); v.Outcome != gate.Allow {
			t.Fatalf("a fresh gate: %v, want allow (the test would prove nothing)", v.Outcome)
		}
		if v := g2.Check(req); v.Outcome != gate.Defer || !v.RetryAt.Equal(t0.Add(30*time.Second)) {
			t.Fatalf("restored gate: %v until %v (%s), want defer until t0+30s", v.Outcome, v.RetryAt, v.Reason)
		}
		if s := g2.Snapshot(); len(s) != 1 || s[0].BackoffStep != 2 || s[0].ActionsInWindow != 2 {
			t.Fatalf("restored snapshot %+v, want step 2 with 2 actions in the window", s)
		}

		now = t0.Add(30 * time.Second)
		g2.Record(web, "restart", "failed") // third in the hour: the breaker opens
		if v := g2.Check(req); v.Outcome != gate.Escalate || !v.FirstEscalation {
			t.Fatalf("after the third action: %v first=%v, want the breaker's first escalation", v.Outcome, v.FirstEscalation)
		}
		now = t0.Add(40 * time.Minute)
		g3 := handover(g2, true)
		if v := g3.Check(req); v.Outcome != gate.Escalate || v.FirstEscalation {
			t.Fatalf("restored after the breaker opened: %v first=%v, want escalate, already announced", v.Outcome, v.FirstEscalation)
		}

		names, err := b.GateContainers(ctx)
		if err != nil || !slices.Equal(names, []string{web}) {
			t.Fatalf("gate containers %q, %v; want [%s]", names, err, web)
		}
		if err := b.ForgetGate(ctx, web); err != nil {
			t.Fatal(err)
		}
		if found, err := b.LoadGate(ctx, web, &gate.Saved{}); found || err != nil {
			t.Fatalf("after ForgetGate: found %v, %v", found, err)
		}
	})
}
