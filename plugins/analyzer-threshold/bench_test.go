package threshold

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/hemostat/hemostat/sdk"
)

// noopAnalyzer is the baseline: the cost of a call through the plugin
// protocol with no judgement at all.
type noopAnalyzer struct{}

func (noopAnalyzer) Configure(context.Context, json.RawMessage, sdk.Host) error { return nil }
func (noopAnalyzer) Analyze(context.Context, sdk.AnalyzeRequest) (sdk.Decision, error) {
	return sdk.Decision{Verdict: sdk.VerdictAbstain}, nil
}

func benchRequest(n int) sdk.AnalyzeRequest {
	v := make([]float64, n)
	for i := range v {
		v[i] = 60 + 35*float64(i)/float64(n)
	}
	return fromMonitor(history(cpu(v...), mem(v...)), sdk.IssueHighCPU(95), sdk.IssueHighMemory(95))
}

// BenchmarkAnalyze compares the analyzer's own cost (direct calls, default
// window and a window of 1000 samples) with a call through the plugin
// protocol, against the no-op baseline over the same protocol.
func BenchmarkAnalyze(b *testing.B) {
	ctx := context.Background()
	small, large := benchRequest(60), benchRequest(1000)
	b.Run("direct/window=6", func(b *testing.B) {
		a := New()
		for b.Loop() {
			a.Analyze(ctx, small)
		}
	})
	b.Run("direct/window=1000", func(b *testing.B) {
		a := New()
		if err := a.Configure(ctx, json.RawMessage(`{"spike_window": 1000}`), nil); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			a.Analyze(ctx, large)
		}
	})
	for _, impl := range []struct {
		name string
		p    sdk.Analyzer
	}{{"grpc/baseline-noop", noopAnalyzer{}}, {"grpc/threshold", New()}} {
		b.Run(impl.name, func(b *testing.B) {
			client := sdk.NewHarness(b, impl.p).Analyzer()
			for b.Loop() {
				if _, err := client.Analyze(ctx, small); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
