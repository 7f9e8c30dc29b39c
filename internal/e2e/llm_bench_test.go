package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/fakellm"
	"github.com/hemostat/hemostat/internal/testenv"
	"github.com/redis/go-redis/v9"
)

// llmTimeout is the llm plugin's deadline in BenchmarkLLMFallback.
const llmTimeout = 2 * time.Second

// BenchmarkLLMFallback measures health_alert → remediation_needed decided
// by threshold when the llm analyzer before it cannot answer — its model
// refuses connections, or accepts them and never answers — against the
// same through hemostatd with no llm analyzer configured. With the default
// circuit breaker the first three alerts pay (first-max-ms) and later ones
// skip the model; with the breaker out of the way (breaker_failures =
// 1000) every alert pays, which shows the bound: a refused connection costs
// next to nothing, a hanging model at most the plugin's timeout. Run with
// -benchtime=20x.
func BenchmarkLLMFallback(b *testing.B) {
	llm := func(baseURL string, breakerFailures int) string {
		return fmt.Sprintf(`
  plugin "llm" {
    timeout = %q
    config {
      model            = "test-model"
      base_url         = %q
      api_key          = "sk-bench"
      breaker_failures = %d
    }
  }`, llmTimeout.String(), baseURL, breakerFailures)
	}
	refused := func(b *testing.B) string { return fakellm.RefusedURL(b) }
	hanging := func(b *testing.B) string {
		return fakellm.New(b, fakellm.Always(fakellm.Answer{Hang: true})).BaseURL()
	}
	for _, tc := range []struct {
		name  string
		block func(b *testing.B) string
	}{
		{"no-llm", func(*testing.B) string { return "" }},
		{"refused", func(b *testing.B) string { return llm(refused(b), 3) }},
		{"refused-no-breaker", func(b *testing.B) string { return llm(refused(b), 1000) }},
		{"hanging", func(b *testing.B) string { return llm(hanging(b), 3) }},
		{"hanging-no-breaker", func(b *testing.B) string { return llm(hanging(b), 1000) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			block := tc.block(b)
			cfg := strings.Replace(analyzerOnly, `plugin "threshold" {}`, block+"\n  plugin \"threshold\" {}", 1)
			srv := testenv.StartRedis(b)
			d := startDaemon(b, srv, cfg)
			decide := decisionTimer(b, d, block != "")
			var first time.Duration
			for i := range 5 {
				first = max(first, decide(fmt.Sprintf("warm-%d", i)))
			}
			var took []time.Duration
			for i := 0; b.Loop(); i++ {
				took = append(took, decide(fmt.Sprintf("bench-%d", i)))
			}
			b.ReportMetric(float64(percentile(took, 50).Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(percentile(took, 99).Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(first.Microseconds())/1000, "first-max-ms")
		})
	}
}

// decisionTimer returns a function that publishes an exit alert for a
// container and times it until its remediation_needed arrives, failing
// unless threshold decided it and, with an llm analyzer before it, the
// decision says why the llm did not.
func decisionTimer(b *testing.B, d *daemon, withLLM bool) func(container string) time.Duration {
	ctx := context.Background()
	sub := d.rdb.Subscribe(ctx, protocol.Channel(protocol.TypeRemediationNeeded))
	b.Cleanup(func() { sub.Close() })
	if _, err := sub.Receive(ctx); err != nil {
		b.Fatal(err)
	}
	ch := sub.Channel(redis.WithChannelSize(1024))
	return func(container string) time.Duration {
		env, err := protocol.NewEnvelope(protocol.AgentMonitor, protocol.TypeHealthAlert, protocol.HealthAlert{
			Container: container, Issues: []string{protocol.IssueExited(1)},
			Metrics: map[string]any{"name": container, "status": "exited", "cpu_pct": 0.0, "memory_pct": 1.5, "timestamp": "2025-11-03T10:30:45"},
		}, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		raw, _ := json.Marshal(env)
		start := time.Now()
		if err := d.rdb.Publish(ctx, protocol.Channel(protocol.TypeHealthAlert), raw).Err(); err != nil {
			b.Fatal(err)
		}
		timeout := time.After(llmTimeout + 30*time.Second)
		for {
			select {
			case m := <-ch:
				var got protocol.Envelope
				var need protocol.RemediationNeeded
				if json.Unmarshal([]byte(m.Payload), &got) != nil || json.Unmarshal(got.Data, &need) != nil || need.Container != container {
					continue
				}
				took := time.Since(start)
				if need.Analyzer != "threshold" || (withLLM && !strings.Contains(need.FallbackReason, "llm: ")) {
					b.Fatalf("decision for %s: %s; want threshold's, saying why llm did not decide", container, got.Data)
				}
				return took
			case <-timeout:
				b.Fatalf("no decision for %s", container)
			}
		}
	}
}
