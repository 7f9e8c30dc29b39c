package role

import (
	"context"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hemostat/hemostat/host/bus"
	"github.com/hemostat/hemostat/host/gate"
	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/sdk"
)

// TestHandoff: a history is taken once, by the decision of the alert it
// was read for, and only while it is recent.
func TestHandoff(t *testing.T) {
	now := time.Unix(1000, 0)
	h := NewHandoff()
	h.now = func() time.Time { return now }
	hist := []sdk.Sample{{Container: "web", Status: "running"}}
	h.put("web", "req-1", hist)
	if _, ok := h.take("web", "req-2"); ok {
		t.Error("another request's decision took the history")
	}
	if _, ok := h.take("api", "req-1"); ok {
		t.Error("another container's decision took the history")
	}
	if got, ok := h.take("web", "req-1"); !ok || len(got) != 1 {
		t.Errorf("take = %v, %v; want the history", got, ok)
	}
	if _, ok := h.take("web", "req-1"); ok {
		t.Error("the history was taken twice")
	}
	h.put("web", "req-3", hist)
	now = now.Add(handoffMaxAge + time.Millisecond)
	if _, ok := h.take("web", "req-3"); ok {
		t.Error("a history older than handoffMaxAge was taken")
	}
	h.put("web", "req-4", hist)
	now = now.Add(handoffMaxAge + time.Millisecond)
	h.put("api", "req-5", hist)
	if len(h.m) != 1 {
		t.Errorf("%d histories held, want the newest alone", len(h.m))
	}
	h.put("web", "", hist)
	var none *Handoff
	none.put("web", "req-6", hist)
	if _, ok := none.take("web", "req-6"); ok {
		t.Error("a nil Handoff handed something over")
	}
}

// TestResponderTakesTheAnalyzersRead: the responder judges a request on
// the history this process's analyzer read for it, not on a second read
// of Redis; a request it was not read for, and the same request again,
// are judged on Redis.
func TestResponderTakesTheAnalyzersRead(t *testing.T) {
	plugin := &recordingResponder{calls: map[string]int{}}
	policy := gate.DefaultPolicy()
	policy.Actions = []string{"restart"}
	policy.Backoff = gate.Backoff{}
	h := NewHandoff()
	r := newRig(t, func(ctx context.Context, b *bus.Bus) {
		re := &Responder{Bus: b, Gate: gate.New(policy, time.Now), Logger: hclog.NewNullLogger(),
			Plugins: []NamedResponder{{"record", plugin}}, Handoff: h}
		re.Register(ctx)
	})
	// Redis holds a sample without labels; the analyzer's read, as far
	// as this test tells the responder, one that opts the container out.
	if err := r.bus.AppendSample(r.ctx, sdk.Sample{Container: "web", Status: "running", Time: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	h.put("web", "req-read", []sdk.Sample{{Container: "web", Status: "running", Labels: map[string]string{sdk.LabelEnable: "false"}}})
	need := func(id string) protocol.RemediationNeeded {
		return protocol.RemediationNeeded{Container: "web", Action: "restart", Confidence: 0.9, Issues: []string{"Health check failing"}, RequestID: id}
	}
	for i, id := range []string{"req-read", "req-other", "req-read"} {
		r.publish(t, protocol.AgentAnalyzer, protocol.TypeRemediationNeeded, need(id))
		r.waitFor(t, protocol.TypeRemediationComplete, "web", i+1)
	}
	var statuses []string
	for _, env := range r.waitFor(t, protocol.TypeRemediationComplete, "web", 3) {
		statuses = append(statuses, decode[protocol.RemediationComplete](t, env).Result.Status)
	}
	if want := []string{sdk.StatusRejected, sdk.StatusSuccess, sdk.StatusSuccess}; !equal(statuses, want) {
		t.Fatalf("statuses %v, want %v: the first judged on the handed-over labels, the others on Redis", statuses, want)
	}
}

// TestAnalyzerHandsItsReadToTheResponder: an analyzer and a responder
// sharing a Handoff, as hemostatd wires them, meet on the alert's request
// ID: the action on a decision takes the analyzer's read, and a false
// alarm's read is left for no one.
func TestAnalyzerHandsItsReadToTheResponder(t *testing.T) {
	plugin := &recordingResponder{calls: map[string]int{}}
	policy := gate.DefaultPolicy()
	policy.Actions = []string{"restart"}
	h := NewHandoff()
	var an *Analyzer
	r := newRig(t, func(ctx context.Context, b *bus.Bus) {
		an = &Analyzer{Bus: b, Logger: hclog.NewNullLogger(), Handoff: h, Chain: []NamedAnalyzer{{"rules", funcAnalyzer(func(req sdk.AnalyzeRequest) (sdk.Decision, error) {
			if req.Alert.Container == "quiet" {
				return sdk.Decision{Verdict: sdk.VerdictFalseAlarm, Reason: "transient", Confidence: 0.6}, nil
			}
			return sdk.Decision{Verdict: sdk.VerdictRemediate, Action: "restart", Reason: "unhealthy", Confidence: 0.9}, nil
		})}}}
		an.Register(ctx)
		re := &Responder{Bus: b, Gate: gate.New(policy, time.Now), Logger: hclog.NewNullLogger(),
			Plugins: []NamedResponder{{"record", plugin}}, Handoff: h}
		re.Register(ctx)
	})
	t.Cleanup(an.Close)
	for _, c := range []string{"web", "quiet"} {
		if err := r.bus.AppendSample(r.ctx, sdk.Sample{Container: c, Status: "running", Time: time.Now().UTC()}); err != nil {
			t.Fatal(err)
		}
		r.publish(t, protocol.AgentMonitor, protocol.TypeHealthAlert, protocol.HealthAlert{Container: c, Issues: []string{"Health check failing"}})
	}
	done := r.waitFor(t, protocol.TypeRemediationComplete, "web", 1)
	if s := decode[protocol.RemediationComplete](t, done[0]).Result.Status; s != sdk.StatusSuccess {
		t.Fatalf("status %s, want success", s)
	}
	r.waitFor(t, protocol.TypeFalseAlarm, "quiet", 1)
	h.mu.Lock()
	defer h.mu.Unlock()
	var left []string
	for k := range h.m {
		left = append(left, k.container)
	}
	if !equal(left, []string{"quiet"}) {
		t.Errorf("histories left in the Handoff for %q, want the false alarm's alone: the responder takes the analyzer's read", left)
	}
}
