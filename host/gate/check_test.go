package gate

import (
	"math"
	"testing"
	"time"
)

// TestCheckRules covers every static rule with its exact verdict text.
func TestCheckRules(t *testing.T) {
	base := DefaultPolicy()
	base.Protected = []string{"hemostatd", "*redis*", "/infra-?"}
	optIn := base
	optIn.RequireOptIn = true
	dry := base
	dry.DryRun = true
	none := base
	none.Actions = nil

	tests := []struct {
		name   string
		policy Policy
		req    Request
		want   Verdict
	}{
		{"allowed", base, restart("api"),
			Verdict{Outcome: Allow, Reason: "restart of api is allowed"}},
		{"dry run", dry, restart("api"),
			Verdict{Outcome: Allow, Reason: "dry run: restart of api is allowed but will not be carried out", DryRun: true}},
		{"no container", base, restart(""),
			Verdict{Outcome: Reject, Status: "rejected", Reason: "the request names no container"}},
		{"protected by name", base, restart("hemostatd"),
			Verdict{Outcome: Reject, Status: "rejected", Reason: "container hemostatd is protected"}},
		{"protected by glob", base, restart("hemostat-redis"),
			Verdict{Outcome: Reject, Status: "rejected", Reason: `container hemostat-redis is protected (matches "*redis*")`}},
		{"protected with Docker's slash", base, restart("/hemostat-redis"),
			Verdict{Outcome: Reject, Status: "rejected", Reason: `container /hemostat-redis is protected (matches "*redis*")`}},
		{"slash in pattern", base, restart("infra-1"),
			Verdict{Outcome: Reject, Status: "rejected", Reason: `container infra-1 is protected (matches "infra-?")`}},
		{"glob does not overmatch", base, restart("infra-10"),
			Verdict{Outcome: Allow, Reason: "restart of infra-10 is allowed"}},
		{"opted out", base, Request{Container: "api", Action: "restart", Confidence: 0.9, Labels: map[string]string{LabelEnable: "false"}},
			Verdict{Outcome: Reject, Status: "rejected", Reason: "container api opted out with label hemostat.enable=false"}},
		{"opted out with no", base, Request{Container: "api", Action: "restart", Confidence: 0.9, Labels: map[string]string{LabelEnable: "No"}},
			Verdict{Outcome: Reject, Status: "rejected", Reason: "container api opted out with label hemostat.enable=No"}},
		{"unclear label", base, Request{Container: "api", Action: "restart", Confidence: 0.9, Labels: map[string]string{LabelEnable: "maybe"}},
			Verdict{Outcome: Reject, Status: "rejected", Reason: `container api has label hemostat.enable="maybe", which is neither true nor false; leaving it alone`}},
		{"opted in without requirement", base, Request{Container: "api", Action: "restart", Confidence: 0.9, Labels: map[string]string{LabelEnable: "true"}},
			Verdict{Outcome: Allow, Reason: "restart of api is allowed"}},
		{"opt-in required and given", optIn, Request{Container: "api", Action: "restart", Confidence: 0.9, Labels: map[string]string{LabelEnable: "true"}},
			Verdict{Outcome: Allow, Reason: "restart of api is allowed"}},
		{"opt-in required, label absent", optIn, Request{Container: "api", Action: "restart", Confidence: 0.9, Labels: map[string]string{"app": "api"}},
			Verdict{Outcome: Reject, Status: "rejected", Reason: "container api is not opted in: label hemostat.enable=true is required"}},
		{"opt-in required, labels unknown", optIn, restart("api"),
			Verdict{Outcome: Reject, Status: "rejected", Reason: "container api is not opted in: label hemostat.enable=true is required and its labels are unknown"}},
		{"action not allowed", base, Request{Container: "api", Action: "kill", Confidence: 0.9},
			Verdict{Outcome: Reject, Status: "rejected", Reason: `action "kill" is not allowed (allowed: restart, start)`}},
		{"no actions allowed", none, restart("api"),
			Verdict{Outcome: Reject, Status: "rejected", Reason: `action "restart" is not allowed: no actions are allowed`}},
		{"confidence below", base, Request{Container: "api", Action: "restart", Confidence: 0.6},
			Verdict{Outcome: Reject, Status: "rejected", Reason: "confidence 0.60 is below the minimum 0.70"}},
		{"confidence just below", base, Request{Container: "api", Action: "restart", Confidence: 0.699},
			Verdict{Outcome: Reject, Status: "rejected", Reason: "confidence 0.699 is below the minimum 0.700"}},
		{"confidence equal passes", base, Request{Container: "api", Action: "restart", Confidence: 0.7},
			Verdict{Outcome: Allow, Reason: "restart of api is allowed"}},
		{"confidence NaN", base, Request{Container: "api", Action: "restart", Confidence: math.NaN()},
			Verdict{Outcome: Reject, Status: "rejected", Reason: "confidence is not a number"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, _ := newTestGate(tt.policy)
			if got := g.Check(tt.req); got != tt.want {
				t.Errorf("Check(%+v)\n got %+v\nwant %+v", tt.req, got, tt.want)
			}
		})
	}
}

// TestCheckOrder builds a request that breaks every rule and lifts them one
// by one: each time the first rule still broken must be the one reported.
func TestCheckOrder(t *testing.T) {
	p := DefaultPolicy()
	p.Protected = []string{"db"}
	p.RequireOptIn = true
	p.Breaker = Breaker{MaxActions: 1, Window: time.Hour}
	p.Backoff.Initial = 10 * time.Second

	steps := []struct {
		name   string
		lift   func(*Request, *Policy)
		want   Outcome
		reason string
	}{
		{"protected first", func(*Request, *Policy) {}, Reject, "container db is protected"},
		{"then opt-out", func(_ *Request, p *Policy) { p.Protected = nil }, Reject, "container db opted out with label hemostat.enable=false"},
		{"then opt-in", func(r *Request, _ *Policy) { r.Labels = map[string]string{} }, Reject, "container db is not opted in: label hemostat.enable=true is required"},
		{"then allowlist", func(r *Request, _ *Policy) { r.Labels[LabelEnable] = "true" }, Reject, `action "kill" is not allowed (allowed: restart, start)`},
		{"then confidence", func(r *Request, _ *Policy) { r.Action = "restart" }, Reject, "confidence 0.10 is below the minimum 0.70"},
		{"then breaker", func(r *Request, _ *Policy) { r.Confidence = 1 }, Escalate, "circuit breaker open: 1 action in the last 1h0m0s; escalating to a person"},
		{"then backoff", func(_ *Request, p *Policy) { p.Breaker.MaxActions = 2 }, Defer, "backoff: 1st action in a row; next allowed at 10:30:10 (in 10s)"},
		{"then allow", func(_ *Request, p *Policy) { p.Backoff = Backoff{} }, Allow, "restart of db is allowed"},
	}
	req := Request{Container: "db", Action: "kill", Confidence: 0.1, Labels: map[string]string{LabelEnable: "false"}}
	for _, s := range steps {
		s.lift(&req, &p)
		g, _ := newTestGate(p)
		g.Record("db", "restart", "success") // feeds the breaker and the backoff
		v := g.Check(req)
		if v.Outcome != s.want || v.Reason != s.reason {
			t.Errorf("%s: Check = %v %q, want %v %q", s.name, v.Outcome, v.Reason, s.want, s.reason)
		}
	}
}

func TestOutcomeString(t *testing.T) {
	for o, want := range map[Outcome]string{Allow: "allow", Reject: "reject", Defer: "defer", Escalate: "escalate", Outcome(9): "Outcome(9)"} {
		if got := o.String(); got != want {
			t.Errorf("Outcome(%d).String() = %q, want %q", int(o), got, want)
		}
	}
}

// TestPolicyIsCopied guards against a caller changing the gate's policy
// through a slice it still holds.
func TestPolicyIsCopied(t *testing.T) {
	p := DefaultPolicy()
	p.Protected = []string{"db"}
	g, _ := newTestGate(p)
	p.Actions[0] = "kill"
	p.Protected[0] = "other"
	if v := g.Check(restart("api")); v.Outcome != Allow {
		t.Errorf("changing the caller's Actions changed the gate: %+v", v)
	}
	if v := g.Check(restart("db")); v.Outcome != Reject {
		t.Errorf("changing the caller's Protected changed the gate: %+v", v)
	}
	got := g.Policy()
	got.Actions[0] = "kill"
	if g.Policy().Actions[0] != "restart" {
		t.Error("Policy() exposes the gate's own slice")
	}
}
