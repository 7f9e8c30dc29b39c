package threshold_test

import (
	"context"
	"errors"
	"testing"
	"time"

	threshold "github.com/hemostat/hemostat/plugins/analyzer-threshold"
	"github.com/hemostat/hemostat/sdk"
)

// TestThroughHarness drives the analyzer over real gRPC, as hemostatd does:
// config errors must arrive key by key, and decisions must come back as
// the analyzer made them.
func TestThroughHarness(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h := sdk.NewHarness(t, threshold.New())

	err := h.Configure(ctx, map[string]any{"cpu_pct": 0, "spike_window": "soon"})
	var cerrs sdk.ConfigErrors
	if !errors.As(err, &cerrs) || len(cerrs) != 2 || cerrs[0].Key != "cpu_pct" || cerrs[1].Key != "spike_window" {
		t.Fatalf("Configure with two bad keys: got %v, want errors on cpu_pct and spike_window", err)
	}
	err = h.Configure(ctx, map[string]any{"cpu_pct": 90, "typo": true})
	if !errors.As(err, &cerrs) || len(cerrs) != 1 || cerrs[0] != (sdk.ConfigError{Key: "typo", Message: "unknown setting"}) {
		t.Fatalf("Configure with an unknown key: got %v", err)
	}
	if err := h.Configure(ctx, map[string]any{"cpu_pct": 90, "spike_window": 4}); err != nil {
		t.Fatalf("Configure: %v", err)
	}

	start := time.Date(2025, 11, 3, 10, 30, 0, 0, time.UTC)
	var hist []sdk.Sample
	for i, v := range []float64{20, 20, 91, 93, 95, 97} {
		hist = append(hist, sdk.Sample{Container: "api", Status: "running", CPUPct: v, MemoryPct: 40, Time: start.Add(time.Duration(i) * 10 * time.Second)})
	}
	alerting := hist[len(hist)-1]
	crashed := start.Add(time.Minute)
	for _, tc := range []struct {
		name string
		req  sdk.AnalyzeRequest
		want sdk.Decision
	}{
		{"cpu sustained over the configured window", sdk.AnalyzeRequest{
			Alert:   sdk.Alert{Container: "api", Issues: []string{sdk.IssueHighCPU(97)}, Metrics: map[string]any{"cpu_pct": 97.0}, Sample: &alerting, Time: alerting.Time},
			History: hist,
		}, sdk.Decision{Verdict: sdk.VerdictRemediate, Action: sdk.ActionRestart, Confidence: 0.9,
			Reason: "CPU 97% and rising, above the 90% line in every one of the last 4 samples (91→97%); restarting"}},
		{"restart loop reported by the monitor", sdk.AnalyzeRequest{
			Alert: sdk.Alert{Container: "api", Issues: []string{sdk.IssueRestartLoop(6, time.Hour), sdk.IssueExited(1)}, Time: crashed},
		}, sdk.Decision{Verdict: sdk.VerdictEscalate, Confidence: 0.9,
			Reason: `the monitor reports "Restart loop: 6 restarts in 1h0m0s"; restarting again would not help; escalating to a person`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := h.Analyzer().Analyze(ctx, tc.req)
			if err != nil {
				t.Fatalf("Analyze: %v", err)
			}
			if got != tc.want {
				t.Errorf("decision:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}
