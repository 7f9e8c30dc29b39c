package role

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hemostat/hemostat/host/bus"
	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/sdk"
)

func ringEnvelope(ts, container string) protocol.Envelope {
	return protocol.Envelope{Timestamp: ts, Agent: protocol.AgentMonitor, Type: protocol.TypeHealthAlert,
		Data: json.RawMessage(`{"container":"` + container + `","issues":["x"]}`)}
}

func TestEnvelopeRing(t *testing.T) {
	r := newEnvelopeRing(3)
	a := ringEnvelope("2025-11-03T10:30:45.000001", "web")
	if r.seen(a) {
		t.Fatal("a first envelope was taken for a duplicate")
	}
	for range 5 {
		if !r.seen(a) {
			t.Fatal("the same envelope again was not recognised")
		}
	}
	// Another timestamp, another container, another field boundary: new.
	for _, e := range []protocol.Envelope{
		ringEnvelope("2025-11-03T10:30:45.000002", "web"),
		ringEnvelope("2025-11-03T10:30:45.000001", "db"),
		{Timestamp: a.Timestamp + protocol.AgentMonitor, Agent: "", Type: a.Type, Data: a.Data},
	} {
		if r.seen(e) {
			t.Errorf("%+v was taken for a duplicate", e)
		}
	}
	// Three newer envelopes pushed a out of a ring of three.
	if r.seen(a) {
		t.Error("the ring remembered more than its size")
	}
	if len(r.set) != 3 {
		t.Errorf("the set holds %d hashes for a ring of 3", len(r.set))
	}
}

func BenchmarkEnvelopeRing(b *testing.B) {
	r := newEnvelopeRing(duplicateRingSize)
	envs := make([]protocol.Envelope, 10_000)
	for i := range envs {
		envs[i] = ringEnvelope(fmt.Sprintf("2025-11-03T10:30:45.%06d", i), fmt.Sprint("c", i))
	}
	i := 0
	for b.Loop() {
		r.seen(envs[i%len(envs)])
		i++
	}
}

// TestAnalyzerSkipsDuplicateAlerts: the same envelope published again is
// judged once and counted; a new alert about the same container is judged.
func TestAnalyzerSkipsDuplicateAlerts(t *testing.T) {
	var judged, duplicates atomic.Int64
	r := newRig(t, func(ctx context.Context, b *bus.Bus) {
		an := &Analyzer{Bus: b, Logger: hclog.NewNullLogger(), Chain: []NamedAnalyzer{{"rules", funcAnalyzer(func(req sdk.AnalyzeRequest) (sdk.Decision, error) {
			judged.Add(1)
			return sdk.Decision{Verdict: sdk.VerdictRemediate, Action: "restart", Reason: "crashed", Confidence: 0.9}, nil
		})}}, OnDuplicate: func(string) { duplicates.Add(1) }}
		an.Register(ctx)
	})
	env, err := protocol.NewEnvelope(protocol.AgentMonitor, protocol.TypeHealthAlert,
		protocol.HealthAlert{Container: "web", Issues: []string{protocol.IssueExited(1)}, Metrics: map[string]any{"name": "web"}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(env)
	p := r.rdb.Pipeline()
	for range 50 {
		p.Publish(r.ctx, protocol.Channel(protocol.TypeHealthAlert), raw)
	}
	if _, err := p.Exec(r.ctx); err != nil {
		t.Fatal(err)
	}
	r.waitFor(t, protocol.TypeRemediationNeeded, "web", 1)
	deadline := time.Now().Add(10 * time.Second)
	for duplicates.Load() < 49 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if judged.Load() != 1 || duplicates.Load() != 49 {
		t.Errorf("50 copies of one alert: judged %d, counted %d duplicates; want 1 and 49", judged.Load(), duplicates.Load())
	}
	// A new alert about the same container is another alert.
	r.publish(t, protocol.AgentMonitor, protocol.TypeHealthAlert,
		protocol.HealthAlert{Container: "web", Issues: []string{protocol.IssueExited(1)}, Metrics: map[string]any{"name": "web"}})
	r.waitFor(t, protocol.TypeRemediationNeeded, "web", 2)
	if judged.Load() != 2 {
		t.Errorf("a new alert about web was judged %d times in all, want 2", judged.Load())
	}
}
