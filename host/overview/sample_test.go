package overview

import (
	"fmt"
	"testing"
	"time"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/sdk"
)

// TestDestroyedStaysGone: the stats key a destroyed container leaves
// behind does not bring it back; a container of that name started later
// does come back.
func TestDestroyedStaysGone(t *testing.T) {
	m := New(Options{})
	t0 := time.Now().UTC().Truncate(time.Second)
	m.Sample(sdk.Sample{Container: "job", Status: "running", Time: t0})
	m.Sample(sdk.Sample{Container: "job", Status: "removed", Event: sdk.EventDestroy, Time: t0.Add(time.Second)})
	old := protocol.Stats{Metrics: protocol.Metrics{Name: "job", Status: "running", Timestamp: t0.Format(protocol.StatsTimestampFormat)}}
	m.Stats(old)
	if n := len(m.Containers(nil, nil)); n != 0 {
		t.Fatalf("%d containers after the destroyed one's old stats, want 0", n)
	}
	m.Stats(protocol.Stats{Metrics: protocol.Metrics{Name: "job", Status: "running", Timestamp: t0.Add(5 * time.Second).Format(protocol.StatsTimestampFormat)}})
	if c := m.Containers(nil, nil); len(c) != 1 || c[0].Status != "running" {
		t.Fatalf("a new job: %+v", c)
	}
}

// TestNewsOfADestroyedContainer: what is published about a container
// after it was destroyed — the deferred action skipped because it no
// longer exists, a late decision, an escalation — is counted, and listed
// among the remediations, but does not bring the container back as a
// ghost; an alert with a sample taken after the destroy, a new container
// of that name, does.
func TestNewsOfADestroyedContainer(t *testing.T) {
	m := New(Options{})
	t0 := time.Now().UTC().Truncate(time.Second)
	m.Sample(sdk.Sample{Container: "web", Status: "exited", Time: t0})
	m.Sample(sdk.Sample{Container: "web", Status: "removed", Event: sdk.EventDestroy, Time: t0.Add(time.Second)})
	later := t0.Add(2 * time.Second)
	news := []struct {
		eventType string
		data      any
	}{
		{protocol.TypeRemediationComplete, protocol.RemediationComplete{Container: "web", Action: "restart",
			Result: protocol.Result{Status: sdk.StatusSkipped, Reason: "deferred action dropped on re-check: the container no longer exists"}}},
		{protocol.TypeRemediationNeeded, protocol.RemediationNeeded{Container: "web", Action: "restart", Reason: "late", Confidence: 0.9}},
		{protocol.TypeFalseAlarm, protocol.FalseAlarm{Container: "web", Reason: "late"}},
		{protocol.TypeEscalation, protocol.Escalation{Container: "web", Reason: "breaker", Source: protocol.EscalatedByBreaker}},
		{protocol.TypeForeignAction, protocol.ForeignAction{Container: "web", Action: "kill", Count: 1}},
		{protocol.TypeHealthAlert, protocol.HealthAlert{Container: "web", Issues: []string{"Exited with code 1"}}},
	}
	for _, n := range news {
		env, err := protocol.NewEnvelope(protocol.AgentResponder, n.eventType, n.data, later)
		if err != nil {
			t.Fatal(err)
		}
		m.Apply(env)
		if c := m.Containers(nil, nil); len(c) != 0 {
			t.Fatalf("after a %s the destroyed container is listed again: %+v", n.eventType, c[0])
		}
	}
	if r := m.Remediations("web", 10); len(r) != 1 || r[0].Result != sdk.StatusSkipped {
		t.Errorf("remediations %+v, want the skipped one", r)
	}
	if tot := m.Totals(); tot.Escalations != 1 || tot.FalseAlarms != 1 {
		t.Errorf("totals %+v, want the escalation and the false alarm counted", tot)
	}

	sample := sdk.Sample{Container: "web", Status: "exited", Time: t0.Add(3 * time.Second)}
	env, err := protocol.NewEnvelope(protocol.AgentMonitor, protocol.TypeHealthAlert,
		protocol.HealthAlert{Container: "web", Issues: []string{"Exited with code 1"}, Sample: &sample}, t0.Add(3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	m.Apply(env)
	if c := m.Containers(nil, nil); len(c) != 1 || c[0].LastAlert == nil {
		t.Fatalf("a new web's alert: %+v", c)
	}
}

// TestGoneIsBounded: a host that destroys containers of new names all day
// does not grow the model's memory of them for ever; the newest are
// still kept, and one destroyed long ago is forgotten first.
func TestGoneIsBounded(t *testing.T) {
	m := New(Options{})
	t0 := time.Now().UTC()
	m.Sample(sdk.Sample{Container: "ancient", Event: sdk.EventDestroy, Time: t0.Add(-2 * goneKept)})
	for i := range ContainersMax + 500 {
		m.Sample(sdk.Sample{Container: fmt.Sprintf("job-%d", i), Event: sdk.EventDestroy, Time: t0.Add(time.Duration(i) * time.Millisecond)})
	}
	if n := len(m.gone); n > ContainersMax {
		t.Errorf("%d destroyed names remembered, want at most %d", n, ContainersMax)
	}
	if _, ok := m.gone["ancient"]; ok {
		t.Error("a name destroyed two hours ago is still remembered")
	}
	last := fmt.Sprintf("job-%d", ContainersMax+499)
	if _, ok := m.gone[last]; !ok {
		t.Errorf("the newest destroyed name %s is forgotten", last)
	}
}
