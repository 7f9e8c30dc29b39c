package overview

import (
	"fmt"
	"testing"
	"time"

	"github.com/hemostat/hemostat/host/protocol"
)

func envelope(t *testing.T, eventType string, data any) protocol.Envelope {
	t.Helper()
	env, err := protocol.NewEnvelope("Test", eventType, data, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// TestContainersBounded: alerts naming ever new containers keep the
// model within ContainersMax records; an escalated container and the
// newest ones stay.
func TestContainersBounded(t *testing.T) {
	m := New(Options{})
	m.Apply(envelope(t, protocol.TypeEscalation, protocol.Escalation{Container: "db", Reason: "breaker open", Source: protocol.EscalatedByBreaker}))
	const n = 3 * ContainersMax
	for i := range n {
		m.Apply(envelope(t, protocol.TypeHealthAlert, protocol.HealthAlert{Container: fmt.Sprintf("flood-%d", i), Issues: []string{protocol.IssueExited(1)}}))
	}
	got := m.Containers(nil, nil)
	if len(got) > ContainersMax {
		t.Fatalf("%d records after %d new names, want at most %d", len(got), n, ContainersMax)
	}
	names := map[string]bool{}
	for _, c := range got {
		names[c.Name] = true
	}
	if !names["db"] {
		t.Error("the escalated container was evicted")
	}
	if newest := fmt.Sprintf("flood-%d", n-1); !names[newest] {
		t.Errorf("the newest container %s was evicted", newest)
	}
	if names["flood-0"] {
		t.Error("the oldest container was kept")
	}
}
