package gate

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestConcurrentEscalationAnnouncedOnce: many responders checking the same
// open breaker at once still publish one escalation per container.
func TestConcurrentEscalationAnnouncedOnce(t *testing.T) {
	const containers, workers, checks = 20, 8, 200
	g, _ := newTestGate(DefaultPolicy())
	for c := range containers {
		for range 5 {
			g.Record(fmt.Sprintf("c%d", c), "restart", "failed")
		}
	}
	var firsts [containers]atomic.Int32
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range checks {
				c := (w + i) % containers
				v := g.Check(restart(fmt.Sprintf("c%d", c)))
				if v.Outcome != Escalate {
					t.Errorf("c%d: %v, want escalate", c, v.Outcome)
					return
				}
				if v.FirstEscalation {
					firsts[c].Add(1)
				}
			}
		})
	}
	wg.Wait()
	for c := range containers {
		if n := firsts[c].Load(); n != 1 {
			t.Errorf("c%d: %d first escalations, want 1", c, n)
		}
	}
}

// TestConcurrentUse runs every method at once while time moves, for the
// race detector, and then checks the gate still keeps its promises.
func TestConcurrentUse(t *testing.T) {
	g, clock := newTestGate(DefaultPolicy())
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Go(func() {
			for i := range 500 {
				name := fmt.Sprintf("c%d", (w*7+i)%10)
				r := restart(name)
				switch v := g.Check(r); v.Outcome {
				case Allow:
					g.Record(name, r.Action, "success")
				case Defer:
					g.Defer(r)
				}
				switch i % 50 {
				case 10:
					g.Due()
				case 20:
					g.NextDue()
				case 30:
					g.Snapshot()
				case 40:
					g.Forget(name)
				}
			}
		})
	}
	wg.Go(func() {
		for range 500 {
			clock.Advance(time.Second)
		}
	})
	wg.Wait()

	for _, cs := range g.Snapshot() {
		if cs.ActionsInWindow > maxRemembered {
			t.Errorf("%s: %d actions remembered, more than %d", cs.Container, cs.ActionsInWindow, maxRemembered)
		}
		if cs.Parked != nil && cs.Parked.Container != cs.Container {
			t.Errorf("%s: parked request for %s", cs.Container, cs.Parked.Container)
		}
	}
	// The gate still works: a fresh container with 5 actions escalates.
	for range 5 {
		g.Record("fresh", "restart", "failed")
	}
	if v := g.Check(restart("fresh")); v.Outcome != Escalate || !v.FirstEscalation {
		t.Errorf("after the storm: %+v, want the first escalation", v)
	}
}
