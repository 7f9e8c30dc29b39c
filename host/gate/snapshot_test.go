package gate

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

func TestSnapshot(t *testing.T) {
	g, clock := newTestGate(DefaultPolicy())
	for range 5 {
		g.Record("api", "restart", "failed")
		clock.Advance(time.Second)
	}
	g.Record("db", "restart", "success")
	clock.Advance(time.Second)
	g.Defer(restart("db"))
	g.Defer(restart("web")) // never acted on: parked, due at once

	got := g.Snapshot()
	dbReq, webReq := restart("db"), restart("web")
	want := []ContainerState{
		{
			Container: "api", LastAction: "restart", LastStatus: "failed", LastActionAt: epoch.Add(4 * time.Second),
			ActionsInWindow: 5, BackoffStep: 5, NextAllowed: epoch.Add(4*time.Second + 160*time.Second),
			BreakerOpen: true, BreakerClosesAt: epoch.Add(time.Hour),
		},
		{
			Container: "db", LastAction: "restart", LastStatus: "success", LastActionAt: epoch.Add(5 * time.Second),
			ActionsInWindow: 1, BackoffStep: 1, NextAllowed: epoch.Add(15 * time.Second),
			Parked: &dbReq, ParkedUntil: epoch.Add(15 * time.Second),
		},
		{Container: "web", Parked: &webReq, ParkedUntil: epoch.Add(6 * time.Second)},
	}
	gotJSON, _ := json.MarshalIndent(got, "", "  ")
	wantJSON, _ := json.MarshalIndent(want, "", "  ")
	if string(gotJSON) != string(wantJSON) {
		t.Errorf("Snapshot\n got %s\nwant %s", gotJSON, wantJSON)
	}

	// After the delay the step stays until the calm resets it; after the
	// window the breaker closes.
	clock.Advance(time.Hour)
	for _, cs := range g.Snapshot() {
		if cs.Container == "api" && (cs.BreakerOpen || cs.BackoffStep != 0 || !cs.NextAllowed.IsZero() || cs.ActionsInWindow != 0) {
			t.Errorf("an hour later: %+v, want calm", cs)
		}
	}
}

func TestSnapshotJSONOmitsZeroTimes(t *testing.T) {
	b, err := json.Marshal(ContainerState{Container: "api"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"container":"api","actions_in_window":0,"backoff_step":0,"breaker_open":false}`; string(b) != want {
		t.Errorf("JSON = %s, want %s", b, want)
	}
}

// TestMemoryBounded: a container's state goes once every rule has forgotten
// its last action, even if the container is never asked about again.
// Without this a host with churning containers would grow without limit.
func TestMemoryBounded(t *testing.T) {
	tests := []struct {
		name   string
		policy func() Policy
		keep   time.Duration // how long state must survive the last action
	}{
		{"window longest", DefaultPolicy, time.Hour},
		{"reset longest", func() Policy { p := DefaultPolicy(); p.Breaker.Window = time.Minute; return p }, 10 * time.Minute},
		{"cooldown longest", func() Policy { p := DefaultPolicy(); p.Cooldown = 2 * time.Hour; return p }, 2 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, clock := newTestGate(tt.policy())
			for i := range 1000 {
				g.Record(fmt.Sprintf("c%d", i), "restart", "success")
			}
			clock.Advance(tt.keep)
			g.Check(restart("other")) // any call may sweep
			if n := stateCount(g); n != 1000 {
				t.Fatalf("at the retention limit: %d states, want 1000", n)
			}
			// Sweeps run at most once per sweepEvery.
			clock.Advance(sweepEvery)
			g.Check(restart("other"))
			if n := stateCount(g); n != 0 {
				t.Errorf("a sweep after the retention: %d states, want 0", n)
			}
		})
	}
}

func stateCount(g *Gate) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.states)
}
