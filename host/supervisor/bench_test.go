package supervisor

import (
	"testing"

	"github.com/hemostat/hemostat/sdk"
)

// BenchmarkAnalyze measures what supervision adds to a call: the baseline
// calls the go-plugin client of the running process directly, the other
// goes through the adapter (current-process lookup, deadline, error
// classification). Compare the two ns/op of one run.
func BenchmarkAnalyze(b *testing.B) {
	ctx := testContext(b)
	s := newSupervisor(b, testOptions(b, sdk.NewMemoryHost()))
	p, err := s.Start(ctx, Spec{Role: sdk.RoleAnalyzer, Name: "bench", Path: binaryFor(b, sdk.RoleAnalyzer)})
	if err != nil {
		b.Fatal(err)
	}
	req := sdk.AnalyzeRequest{Alert: sdk.Alert{Container: "api", Issues: []string{"High CPU: 92.5%"}}}
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
