package overview

import (
	"context"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/hemostat/hemostat/host/bus"
	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/testenv"
)

// TestLoadReplaysTheEventLogs: a model started after the envelopes were
// published finds them in the event logs, and one that heard them live
// as well counts each once.
func TestLoadReplaysTheEventLogs(t *testing.T) {
	srv := testenv.StartRedis(t)
	client := srv.Client(t)
	b := bus.New(client, bus.Options{Logger: hclog.NewNullLogger()})
	t.Cleanup(func() { b.Close(context.Background()) })
	ctx := context.Background()
	var live []protocol.Envelope
	for _, p := range []struct {
		typ  string
		data any
	}{
		{protocol.TypeHealthAlert, protocol.HealthAlert{Container: "api", Issues: []string{"exited"}}},
		{protocol.TypeRemediationComplete, protocol.RemediationComplete{Container: "api", Action: "restart", Result: protocol.Result{Status: "success", Action: "restart", Container: "api"}}},
		{protocol.TypeEscalation, protocol.Escalation{Container: "db", Reason: "breaker open", Source: protocol.EscalatedByBreaker}},
	} {
		env, err := b.Publish(ctx, "test", p.typ, p.data)
		if err != nil {
			t.Fatal(err)
		}
		live = append(live, env)
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	m := New(Options{Settle: -1})
	m.Apply(live[1]) // heard live before the replay: must count once
	m.Load(ctx, client, b)
	byName := map[string]Container{}
	for _, c := range m.Containers(nil, nil) {
		byName[c.Name] = c
	}
	if c := byName["api"]; c.LastAction == nil || c.LastAction.Result != "success" || c.LastAlert == nil {
		t.Errorf("api after the replay: %+v", c)
	}
	if c := byName["db"]; c.State != StateEscalated || c.Escalation == nil || c.Escalation.Source != protocol.EscalatedByBreaker {
		t.Errorf("db after the replay: %+v", c)
	}
	tot := m.Totals()
	if tot.Remediations != 1 || tot.Succeeded != 1 || tot.Escalations != 1 || tot.MeanTimeToRemediateMS < 0 {
		t.Errorf("totals %+v, want each envelope counted once", tot)
	}
	if got := m.Containers(nil, nil)[0].Name; got != "db" {
		t.Errorf("first container %q, want the escalated db", got)
	}
}
