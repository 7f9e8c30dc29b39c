package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/testenv"
	"github.com/redis/go-redis/v9"
)

// analyzerOnly runs the analyzer role alone with the built-in threshold
// analyzer, so the benchmark times exactly alert → plugin → decision.
const analyzerOnly = `
redis { address = "{{redis}}" }
http  { address = "{{http}}" }
monitor   { enabled = false }
responder { enabled = false }
alert     { enabled = false }
analyzer {
  plugin "threshold" {}
}
`

// BenchmarkAlertToDecision measures health_alert → remediation_needed
// through hemostatd and a real plugin subprocess, against the baseline of a
// bare PUBLISH → receive round trip through the same redis-server.
func BenchmarkAlertToDecision(b *testing.B) {
	srv := testenv.StartRedis(b)
	d := startDaemon(b, srv, analyzerOnly)
	ctx := context.Background()

	sub := d.rdb.Subscribe(ctx, protocol.Channel(protocol.TypeRemediationNeeded), "bench:echo")
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		b.Fatal(err)
	}
	ch := sub.Channel(redis.WithChannelSize(1024))

	roundTrip := func(channel, payload, container string) time.Duration {
		start := time.Now()
		if err := d.rdb.Publish(ctx, channel, payload).Err(); err != nil {
			b.Fatal(err)
		}
		for {
			select {
			case m := <-ch:
				if m.Channel == channel && channel == "bench:echo" {
					return time.Since(start)
				}
				var env protocol.Envelope
				var need protocol.RemediationNeeded
				if json.Unmarshal([]byte(m.Payload), &env) == nil && json.Unmarshal(env.Data, &need) == nil && need.Container == container {
					return time.Since(start)
				}
			case <-time.After(10 * time.Second):
				b.Fatalf("no decision for %s", container)
			}
		}
	}
	alert := func(container string) string {
		env, err := protocol.NewEnvelope(protocol.AgentMonitor, protocol.TypeHealthAlert, protocol.HealthAlert{
			Container: container, Issues: []string{protocol.IssueExited(1)},
			Metrics: map[string]any{"name": container, "status": "exited", "cpu_pct": 0.0, "memory_pct": 1.5, "timestamp": "2025-11-03T10:30:45"},
		}, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		raw, _ := json.Marshal(env)
		return string(raw)
	}
	// Warm up the plugin connection and Redis scripts.
	for i := range 20 {
		c := fmt.Sprintf("warm-%d", i)
		roundTrip(protocol.Channel(protocol.TypeHealthAlert), alert(c), c)
	}

	var base, full []time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		c := fmt.Sprintf("bench-%d", i)
		payload := alert(c)
		base = append(base, roundTrip("bench:echo", payload, c))
		full = append(full, roundTrip(protocol.Channel(protocol.TypeHealthAlert), payload, c))
	}
	b.StopTimer()
	p50, p99 := percentile(full, 50), percentile(full, 99)
	b50, b99 := percentile(base, 50), percentile(base, 99)
	b.ReportMetric(float64(p50.Microseconds()), "p50-µs")
	b.ReportMetric(float64(p99.Microseconds()), "p99-µs")
	b.ReportMetric(float64(b50.Microseconds()), "baseline-p50-µs")
	b.ReportMetric(float64(b99.Microseconds()), "baseline-p99-µs")
	if b50 > 0 {
		b.ReportMetric(float64(p50)/float64(b50), "p50-x-baseline")
	}
}

func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}
