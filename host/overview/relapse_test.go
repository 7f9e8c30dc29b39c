package overview

import (
	"testing"
	"time"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/sdk"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// TestRelapse: a successful remediation counts towards the success rate
// only if its container is not acted on or escalated again within the
// relapse window; the remediation list says after how long one relapsed.
func TestRelapse(t *testing.T) {
	type step struct {
		after     time.Duration // since the start
		eventType string
		container string
		status    string // remediation_complete's result
	}
	done := func(after time.Duration, c, status string) step {
		return step{after, protocol.TypeRemediationComplete, c, status}
	}
	needed := func(after time.Duration, c string) step { return step{after, protocol.TypeRemediationNeeded, c, ""} }
	for _, tc := range []struct {
		name     string
		relapse  time.Duration
		steps    []step
		relapsed int
		rate     float64
		afterMS  []float64 // the remediations' relapsed_after_ms, oldest first
	}{
		{name: "acted on again at once", steps: []step{done(0, "web", sdk.StatusSuccess), needed(2*time.Second, "web")},
			relapsed: 1, rate: 0, afterMS: []float64{2000}},
		{name: "acted on again after the window", steps: []step{done(0, "web", sdk.StatusSuccess), needed(11*time.Minute, "web")},
			relapsed: 0, rate: 1, afterMS: []float64{0}},
		{name: "escalated by the breaker", steps: []step{done(0, "web", sdk.StatusSuccess),
			{5 * time.Second, protocol.TypeEscalation, "web", ""}},
			relapsed: 1, rate: 0, afterMS: []float64{5000}},
		{name: "a false alarm is no relapse", steps: []step{done(0, "web", sdk.StatusSuccess),
			{2 * time.Second, protocol.TypeFalseAlarm, "web", ""}},
			relapsed: 0, rate: 1, afterMS: []float64{0}},
		{name: "another container", steps: []step{done(0, "web", sdk.StatusSuccess), needed(time.Second, "db")},
			relapsed: 0, rate: 1, afterMS: []float64{0}},
		{name: "a crash loop", steps: []step{done(0, "web", sdk.StatusSuccess), needed(time.Second, "web"),
			done(2*time.Second, "web", sdk.StatusSuccess), needed(12*time.Second, "web"), done(13*time.Second, "web", sdk.StatusSuccess)},
			relapsed: 2, rate: 1.0 / 3, afterMS: []float64{1000, 10000, 0}},
		{name: "one relapse however often", steps: []step{done(0, "web", sdk.StatusSuccess), needed(time.Second, "web"), needed(2*time.Second, "web")},
			relapsed: 1, rate: 0, afterMS: []float64{1000}},
		{name: "a failure is not on trial", steps: []step{done(0, "web", sdk.StatusFailed), needed(time.Second, "web"), done(2*time.Second, "web", sdk.StatusSuccess)},
			relapsed: 0, rate: 0.5, afterMS: []float64{0, 0}},
		{name: "older news does not end the trial", steps: []step{done(time.Minute, "web", sdk.StatusSuccess), needed(0, "web"), needed(61*time.Second, "web")},
			relapsed: 1, rate: 0, afterMS: []float64{1000}},
		{name: "no window", relapse: -1, steps: []step{done(0, "web", sdk.StatusSuccess), needed(time.Second, "web")},
			relapsed: 0, rate: 1, afterMS: []float64{0}},
		{name: "a shorter window", relapse: time.Second, steps: []step{done(0, "web", sdk.StatusSuccess), needed(2*time.Second, "web")},
			relapsed: 0, rate: 1, afterMS: []float64{0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := New(Options{Relapse: tc.relapse})
			t0 := time.Now().UTC().Truncate(time.Second)
			for _, s := range tc.steps {
				var data any
				switch s.eventType {
				case protocol.TypeRemediationComplete:
					data = protocol.RemediationComplete{Container: s.container, Action: "restart",
						Result: protocol.Result{Status: s.status, Action: "restart", Container: s.container}}
				case protocol.TypeRemediationNeeded:
					data = protocol.RemediationNeeded{Container: s.container, Action: "restart", Reason: "exited", Confidence: 0.9}
				case protocol.TypeEscalation:
					data = protocol.Escalation{Container: s.container, Reason: "breaker open", Source: protocol.EscalatedByBreaker}
				case protocol.TypeFalseAlarm:
					data = protocol.FalseAlarm{Container: s.container, Reason: "a spike"}
				}
				env, err := protocol.NewEnvelope("Test", s.eventType, data, t0.Add(s.after))
				if err != nil {
					t.Fatal(err)
				}
				m.Apply(env)
			}
			tot := m.Totals()
			if tot.Relapsed != tc.relapsed || tot.SuccessRate != tc.rate {
				t.Errorf("relapsed %d, success rate %v; want %d, %v", tot.Relapsed, tot.SuccessRate, tc.relapsed, tc.rate)
			}
			if got := counted(t, m.metrics.relapses); got != float64(tc.relapsed) {
				t.Errorf("hemostat_remediation_relapses_total %v, want %d", got, tc.relapsed)
			}
			rs := m.Remediations("", 100) // newest first
			if len(rs) != len(tc.afterMS) {
				t.Fatalf("%d remediations, want %d", len(rs), len(tc.afterMS))
			}
			for i, want := range tc.afterMS {
				if got := rs[len(rs)-1-i].RelapsedAfterMS; got != want {
					t.Errorf("remediation %d relapsed after %v ms, want %v", i, got, want)
				}
			}
		})
	}
}

// TestRelapseReplayed: the event logs' replay judges relapses as live
// envelopes do, and counts them in the totals but not in the metric,
// which describes this process only; SetRelapse changes the window.
func TestRelapseReplayed(t *testing.T) {
	m := New(Options{})
	t0 := time.Now().UTC().Truncate(time.Second)
	apply := func(f func(protocol.Envelope), after time.Duration, eventType string, data any) {
		t.Helper()
		env, err := protocol.NewEnvelope("Test", eventType, data, t0.Add(after))
		if err != nil {
			t.Fatal(err)
		}
		f(env)
	}
	success := protocol.RemediationComplete{Container: "web", Action: "restart", Result: protocol.Result{Status: sdk.StatusSuccess, Action: "restart"}}
	again := protocol.RemediationNeeded{Container: "web", Action: "restart", Confidence: 0.9}
	apply(m.Replay, 0, protocol.TypeRemediationComplete, success)
	apply(m.Replay, time.Second, protocol.TypeRemediationNeeded, again)
	if tot := m.Totals(); tot.Relapsed != 1 {
		t.Errorf("replayed: relapsed %d, want 1", tot.Relapsed)
	}
	if got := counted(t, m.metrics.relapses); got != 0 {
		t.Errorf("the metric counted %v replayed relapses", got)
	}
	m.SetRelapse(time.Second)
	apply(m.Apply, 2*time.Second, protocol.TypeRemediationComplete, success)
	apply(m.Apply, 4*time.Second, protocol.TypeRemediationNeeded, again)
	if tot := m.Totals(); tot.Relapsed != 1 || tot.SuccessRate != 0.5 {
		t.Errorf("after SetRelapse(1s), a success held 2 s: relapsed %d, success rate %v; want 1, 0.5", tot.Relapsed, tot.SuccessRate)
	}
}

func counted(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
