package bus

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/hemostat/hemostat/host/protocol"
)

func TestInvalidMessagesAreSkippedAndCounted(t *testing.T) {
	client := testenvClient(t)
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	b := newBus(t, client, Options{Registerer: reg})
	got := make(map[string]*collector)
	for _, et := range protocol.Types {
		got[et] = &collector{}
		b.Subscribe(et, got[et].handle)
	}
	startRun(t, b)
	waitSubscribed(t, client, 1, protocol.Types...)

	const ts = `"timestamp":"2025-11-03T10:30:45.123456","agent":"x"`
	payloads := []struct {
		name   string
		raw    func(eventType string) string
		reason string
	}{
		{"malformed JSON", func(string) string { return `{"timestamp": "2025-11-03T10:30:45` }, "malformed_json"},
		{"not an object", func(string) string { return `[1, 2]` }, "invalid_data"},
		{"type is a number", func(string) string { return `{` + ts + `,"type":5,"data":{}}` }, "invalid_data"},
		{"data is a string", func(et string) string { return `{` + ts + `,"type":"` + et + `","data":"x"}` }, "invalid_data"},
		{"bad timestamp", func(et string) string {
			return `{"timestamp":"yesterday","agent":"x","type":"` + et + `","data":{}}`
		}, "invalid_data"},
		{"unknown type", func(string) string { return `{` + ts + `,"type":"no_such_type","data":{}}` }, "wrong_type"},
		{"another channel's type", func(et string) string {
			other := protocol.TypeHealthAlert
			if et == other {
				other = protocol.TypeFalseAlarm
			}
			return `{` + ts + `,"type":"` + other + `","data":{}}`
		}, "wrong_type"},
		{"no agent", func(et string) string { return `{"timestamp":"2025-11-03T10:30:45","type":"` + et + `","data":{}}` }, "missing_field"},
		{"10 MB", func(et string) string {
			return `{` + ts + `,"type":"` + et + `","data":{"pad":"` + strings.Repeat("x", 10<<20) + `"}}`
		}, "too_large"},
	}

	want := uint64(0)
	for _, et := range protocol.Types {
		for _, p := range payloads {
			if err := client.Publish(ctx, protocol.Channel(et), p.raw(et)).Err(); err != nil {
				t.Fatalf("raw publish: %v", err)
			}
			// One at a time: several 10 MB messages in flight would exceed
			// Redis's output buffer limit for subscribers.
			want++
			waitFor(t, fmt.Sprintf("%s on %s to be counted", p.name, et), func() bool { return b.Invalid() >= want })
		}
	}
	if b.Invalid() != want {
		t.Errorf("Invalid() = %d, want %d", b.Invalid(), want)
	}
	for _, et := range protocol.Types {
		wantByReason := make(map[string]float64)
		for _, p := range payloads {
			wantByReason[p.reason]++
		}
		for reason, n := range wantByReason {
			if got := counterValue(t, b.metrics.invalid.WithLabelValues(et, reason)); got != n {
				t.Errorf("invalid{type=%s,reason=%s} = %v, want %v", et, reason, got, n)
			}
		}
	}

	// The loop goes on: a valid message on every channel still arrives,
	// and nothing invalid reached a handler.
	for _, et := range protocol.Types {
		if _, err := b.Publish(ctx, protocol.AgentMonitor, et, map[string]string{"container": "c"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, et := range protocol.Types {
		waitFor(t, "the valid "+et, func() bool { return got[et].len() == 1 })
		if env := got[et].all()[0]; env.Agent != protocol.AgentMonitor || env.Type != et {
			t.Errorf("handler of %s got %+v", et, env)
		}
	}

	// The metrics reached the registry.
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := make(map[string]bool)
	for _, f := range families {
		names[f.GetName()] = true
	}
	for _, name := range []string{"hemostat_bus_invalid_messages_total", "hemostat_bus_received_total", "hemostat_bus_published_total", "hemostat_bus_eventlog_batch_size"} {
		if !names[name] {
			t.Errorf("registry lacks %s", name)
		}
	}
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

func TestCountInvalidData(t *testing.T) {
	b := newBus(t, testenvClient(t), Options{})
	env := protocol.Envelope{Timestamp: "2025-11-03T10:30:45.123456", Agent: "x", Type: protocol.TypeRemediationNeeded, Data: []byte(`{"container":"c"}`)}
	var data protocol.RemediationNeeded
	err := protocol.DecodeData(env, &data)
	if err == nil {
		t.Fatal("data without an action decoded")
	}
	b.CountInvalid(env, err)
	if b.Invalid() != 1 {
		t.Errorf("Invalid() = %d, want 1", b.Invalid())
	}
	if got := counterValue(t, b.metrics.invalid.WithLabelValues(protocol.TypeRemediationNeeded, "missing_field")); got != 1 {
		t.Errorf("invalid{reason=missing_field} = %v, want 1", got)
	}
}
