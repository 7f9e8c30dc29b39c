package gate

import (
	"testing"
	"time"
)

// TestSetPolicy is a config reload: the new rules apply at once, and what
// the gate knew of a container — its backoff streak here — carries over
// and is judged by the new numbers.
func TestSetPolicy(t *testing.T) {
	g, clock := newTestGate(noBreaker())
	g.Record("api", "restart", "success")
	clock.Advance(5 * time.Second)
	if v := g.Check(restart("api")); v.Outcome != Defer {
		t.Fatalf("inside the 10s backoff: %+v, want deferred", v)
	}

	p := noBreaker()
	p.Backoff.Initial = 2 * time.Second
	p.Protected = []string{"ap*"}
	g.SetPolicy(p)
	if v := g.Check(restart("api")); v.Outcome != Reject {
		t.Fatalf("after protecting ap*: %+v, want rejected", v)
	}
	p.Protected = nil
	p.DryRun = true
	g.SetPolicy(p)
	if v := g.Check(restart("api")); v.Outcome != Allow || !v.DryRun {
		t.Fatalf("5s after an action, with a 2s backoff and dry run: %+v, want a dry-run allow", v)
	}
	if got := g.Policy(); got.Backoff.Initial != 2*time.Second || !got.DryRun {
		t.Fatalf("Policy() = %+v after SetPolicy", got)
	}
}
