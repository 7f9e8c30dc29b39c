package supervisor

import (
	"encoding/json"
	"sync"
	"syscall"
	"testing"

	"github.com/hemostat/hemostat/sdk"
)

// TestEventsOfAKilledPlugin: a SIGKILLed plugin is reported failed, then
// restarted, with its restart count.
func TestEventsOfAKilledPlugin(t *testing.T) {
	ctx := testContext(t)
	var mu sync.Mutex
	var events []Event
	opts := testOptions(t, sdk.NewMemoryHost())
	opts.OnEvent = func(ev Event) {
		mu.Lock()
		events = append(events, ev)
		mu.Unlock()
	}
	s := newSupervisor(t, opts)
	p, err := s.Start(ctx, Spec{Role: sdk.RoleAnalyzer, Name: "victim", Config: json.RawMessage(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	old := p.Status().PID
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	runningAgain(t, p, old)
	waitFor(t, "the restarted event", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(events) >= 2
	})
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 2 {
		t.Fatalf("events: %+v", events)
	}
	f, r := events[0], events[1]
	if f.Kind != EventFailed || f.Err == nil || f.Role != sdk.RoleAnalyzer || f.Name != "victim" || f.Restarts != 0 {
		t.Errorf("first event %+v, want analyzer/victim failed with its cause before any restart", f)
	}
	if r.Kind != EventRestarted || r.Err != nil || r.Restarts != 1 {
		t.Errorf("second event %+v, want restarted once", r)
	}
}
