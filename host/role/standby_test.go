package role

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/hemostat/hemostat/host/bus"
	"github.com/hemostat/hemostat/host/gate"
	"github.com/hemostat/hemostat/host/protocol"
)

// TestResponderStandbyAndFence: a request heard while standby is dropped;
// one whose fence fails right before the action touches nothing and is
// not answered (the lease holder answers it); only a request that passes
// both is acted on — one action, one remediation_complete.
func TestResponderStandbyAndFence(t *testing.T) {
	plugin := &recordingResponder{calls: map[string]int{}}
	policy := gate.DefaultPolicy()
	policy.Actions = []string{"restart"}
	policy.Backoff = gate.Backoff{}
	var heard, fenced atomic.Int32
	r := newRig(t, func(ctx context.Context, b *bus.Bus) {
		re := &Responder{
			Bus: b, Gate: gate.New(policy, time.Now), Logger: hclog.NewNullLogger(), Plugins: []NamedResponder{{"record", plugin}},
			// Standby for the first request only.
			Active: func() bool { return heard.Add(1) > 1 },
			// The lease is lost between receipt and action of the second.
			Fence: func(context.Context) error {
				if fenced.Add(1) == 1 {
					return errors.New("lease lost")
				}
				return nil
			},
		}
		re.Register(ctx)
	})
	for i := range 3 {
		r.publish(t, protocol.AgentAnalyzer, protocol.TypeRemediationNeeded,
			protocol.RemediationNeeded{Container: "web", Action: "restart", Confidence: 0.9, Issues: []string{"Exited with code 1"}, RequestID: "req-" + string(rune('a'+i))})
	}
	got := r.waitFor(t, protocol.TypeRemediationComplete, "web", 1)
	// The three requests are handled in order, by one worker: once the
	// third is answered the first two are done with.
	if n := len(r.waitFor(t, protocol.TypeRemediationComplete, "web", 1)); n != 1 {
		t.Fatalf("%d remediation_complete, want 1", n)
	}
	if rc := decode[protocol.RemediationComplete](t, got[0]); rc.RequestID != "req-c" || rc.Result.Status != "success" {
		t.Fatalf("answered %+v, want req-c acted on", rc)
	}
	if n := plugin.count("web"); n != 1 {
		t.Fatalf("%d actions, want 1", n)
	}
	if n := fenced.Load(); n != 2 {
		t.Fatalf("fence checked %d times, want 2 (the standby's request never reaches it)", n)
	}
}
