package supervisor

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/hemostat/hemostat/sdk"
)

// startBenchAnalyzer starts the test analyzer plugin under a supervisor
// and returns it with an alert to judge.
func startBenchAnalyzer(b *testing.B) (context.Context, *Plugin, sdk.AnalyzeRequest) {
	ctx := testContext(b)
	s := newSupervisor(b, testOptions(b, sdk.NewMemoryHost()))
	p, err := s.Start(ctx, Spec{Role: sdk.RoleAnalyzer, Name: "bench", Path: binaryFor(b, sdk.RoleAnalyzer)})
	if err != nil {
		b.Fatal(err)
	}
	return ctx, p, sdk.AnalyzeRequest{Alert: sdk.Alert{Container: "api", Issues: []string{"High CPU: 92.5%"}}}
}

// BenchmarkAnalyze measures what supervision adds to a call: the baseline
// calls the go-plugin client of the running process directly, the other
// goes through the adapter (current-process lookup, deadline, error
// classification). Compare the two ns/op of one run.
func BenchmarkAnalyze(b *testing.B) {
	ctx, p, req := startBenchAnalyzer(b)
	in, err := p.current("bench")
	if err != nil {
		b.Fatal(err)
	}
	direct := in.raw.(*sdk.AnalyzerClient)
	b.Run("direct", func(b *testing.B) {
		for b.Loop() {
			if _, err := direct.Analyze(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("supervised", func(b *testing.B) {
		a := p.Analyzer()
		for b.Loop() {
			if _, err := a.Analyze(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkAnalyzeAfterIdle measures a supervised call that comes after a
// quiet spell, as a lone alert does: the plugin process and the host's
// threads are asleep, and waking them is part of the call. Each call
// follows a pause; ns/op counts the pause, p50-µs/call the call alone, and
// "0s" is the same call back to back, the baseline of the same run. On a
// virtual machine whose idle CPUs halt, the wake-ups, not the work, are
// most of a lone call.
func BenchmarkAnalyzeAfterIdle(b *testing.B) {
	ctx, p, req := startBenchAnalyzer(b)
	a := p.Analyzer()
	for _, pause := range []time.Duration{0, time.Millisecond, 10 * time.Millisecond, 100 * time.Millisecond} {
		b.Run(pause.String(), func(b *testing.B) {
			var took []time.Duration
			for b.Loop() {
				time.Sleep(pause)
				start := time.Now()
				if _, err := a.Analyze(ctx, req); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(start))
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Nanoseconds())/1e3, "p50-µs/call")
		})
	}
}
