package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/bus"
	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/testenv"
)

// BenchmarkDelivery compares pub/sub with streams delivery through
// hemostatd (analyzer role and threshold plugin): alert → decision latency,
// one alert at a time, and the rate of a pipelined burst of distinct
// alerts; beside raw PUBLISH and raw XADD rates on the same redis-server.
// Run with -benchtime=1x.
func BenchmarkDelivery(b *testing.B) {
	const burstN, latencyN = 2000, 200
	for _, mode := range []string{bus.DeliveryPubSub, bus.DeliveryStreams} {
		b.Run(mode, func(b *testing.B) {
			srv := testenv.StartRedis(b)
			cfg := strings.Replace(analyzerOnly, `redis { address = "{{redis}}" }`,
				fmt.Sprintf(`redis {
  address  = "{{redis}}"
  delivery = %q
}`, mode), 1)
			d := startDaemon(b, srv, cfg)
			ctx := context.Background()
			sub := d.rdb.Subscribe(ctx, protocol.Channel(protocol.TypeRemediationNeeded), "bench:raw")
			defer sub.Close()
			if _, err := sub.Receive(ctx); err != nil {
				b.Fatal(err)
			}
			ch := sub.Channel(redis.WithChannelSize(burstN + 16))
			send := func(p redis.Pipeliner, container string) {
				env, _ := protocol.NewEnvelope(protocol.AgentMonitor, protocol.TypeHealthAlert, protocol.HealthAlert{
					Container: container, Issues: []string{protocol.IssueExited(1)},
				}, time.Now())
				raw, _ := json.Marshal(env)
				p.Publish(ctx, protocol.Channel(protocol.TypeHealthAlert), raw)
				if mode == bus.DeliveryStreams {
					p.XAdd(ctx, &redis.XAddArgs{Stream: bus.StreamKey(protocol.TypeHealthAlert), MaxLen: bus.StreamMaxLen, Approx: true, Values: []any{bus.StreamField, raw}})
				}
			}
			wait := func(n int) {
				deadline := time.After(120 * time.Second)
				for got := 0; got < n; {
					select {
					case m := <-ch:
						if m.Channel != "bench:raw" {
							got++
						}
					case <-deadline:
						b.Fatalf("%d of %d decisions", got, n)
					}
				}
			}
			for i := range 20 { // warm up
				d.rdb.Pipelined(ctx, func(p redis.Pipeliner) error { send(p, fmt.Sprintf("warm-%d", i)); return nil })
				wait(1)
			}
			b.ResetTimer()
			var lat []time.Duration
			for i := range latencyN {
				start := time.Now()
				d.rdb.Pipelined(ctx, func(p redis.Pipeliner) error { send(p, fmt.Sprintf("lat-%d", i)); return nil })
				wait(1)
				lat = append(lat, time.Since(start))
			}
			start := time.Now()
			d.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
				for i := range burstN {
					send(p, fmt.Sprintf("burst-%d", i))
				}
				return nil
			})
			wait(burstN)
			rate := float64(burstN) / time.Since(start).Seconds()
			b.StopTimer()

			// Baselines on the same server: raw PUBLISH to a subscriber,
			// raw XADD.
			start = time.Now()
			d.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
				for i := range burstN {
					p.Publish(ctx, "bench:raw", fmt.Sprintf("m%d", i))
				}
				return nil
			})
			for got := 0; got < burstN; got++ {
				<-ch
			}
			pubRate := float64(burstN) / time.Since(start).Seconds()
			start = time.Now()
			d.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
				for i := range burstN {
					p.XAdd(ctx, &redis.XAddArgs{Stream: "bench:stream", MaxLen: bus.StreamMaxLen, Approx: true, Values: []any{"m", i}})
				}
				return nil
			})
			xaddRate := float64(burstN) / time.Since(start).Seconds()

			b.ReportMetric(float64(percentile(lat, 50).Microseconds()), "p50-µs")
			b.ReportMetric(float64(percentile(lat, 99).Microseconds()), "p99-µs")
			b.ReportMetric(rate, "alerts/s")
			b.ReportMetric(pubRate, "raw-publish/s")
			b.ReportMetric(xaddRate, "raw-xadd/s")
		})
	}
}
