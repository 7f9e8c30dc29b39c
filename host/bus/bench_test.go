package bus

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/testenv"
)

// The benchmarks publish from 25 goroutines per CPU (50 on two cores, as
// in the design's measurement) to a real redis-server, and report
// envelopes/s and, when BenchmarkPublishRaw ran first in the same
// process, the ratio to it. Run them with
//
//	go test -run '^$' -bench Publish -benchtime 5s ./host/bus

const benchParallelism = 25

// rawRate is BenchmarkPublishRaw's result, the baseline of the others.
var rawRate struct {
	sync.Mutex
	perSecond float64
}

func benchClient(b *testing.B) *redis.Client {
	srv := testenv.StartRedis(b)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr(), PoolSize: 128})
	b.Cleanup(func() { c.Close() })
	return c
}

// benchData encodes to an envelope of about 300 bytes.
var benchData = protocol.HealthAlert{
	Container: "hemostat-test-api",
	Issues:    []string{"High CPU: 92.5%", "High memory: 91.3%"},
	Metrics: map[string]any{
		"name": "hemostat-test-api", "status": "running", "memory_pct": 91.3, "cpu_pct": 92.5,
		"timestamp": "2025-11-03T10:30:45", "restart_count": 0,
	},
}

func benchEnvelope(b *testing.B) []byte {
	env, err := protocol.NewEnvelope(protocol.AgentMonitor, protocol.TypeHealthAlert, benchData, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	raw, _ := json.Marshal(env)
	return raw
}

func reportRate(b *testing.B, baseline bool) {
	rate := float64(b.N) / b.Elapsed().Seconds()
	b.ReportMetric(rate, "envelopes/s")
	rawRate.Lock()
	defer rawRate.Unlock()
	if baseline {
		rawRate.perSecond = rate
	} else if rawRate.perSecond > 0 {
		b.ReportMetric(rate/rawRate.perSecond, "x-raw")
	}
}

// BenchmarkPublishRaw is the baseline: a plain PUBLISH of a ready-made
// envelope, no event log.
func BenchmarkPublishRaw(b *testing.B) {
	client := benchClient(b)
	raw := benchEnvelope(b)
	b.SetBytes(int64(len(raw)))
	channel := protocol.Channel(protocol.TypeHealthAlert)
	b.SetParallelism(benchParallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if err := client.Publish(ctx, channel, raw).Err(); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportRate(b, true)
}

// BenchmarkPublishWithEventLog is Bus.Publish: encoding, PUBLISH and the
// coalesced event-log append, all written by the end.
func BenchmarkPublishWithEventLog(b *testing.B) {
	client := benchClient(b)
	bus := New(client, Options{})
	b.Cleanup(func() { bus.Close(context.Background()) })
	b.SetBytes(int64(len(benchEnvelope(b))))
	b.SetParallelism(benchParallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if _, err := bus.Publish(ctx, protocol.AgentMonitor, protocol.TypeHealthAlert, benchData); err != nil {
				b.Error(err)
				return
			}
		}
	})
	if err := bus.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	reportRate(b, false)
	b.StopTimer()
	checkBenchLog(b, client, min(b.N, protocol.EventLogMax))
}

// naiveEventLogLua is the straightforward append the bus avoids: decode
// the whole array, append, trim, encode it again, for every event.
const naiveEventLogLua = `
local events = {}
local log = redis.call('GET', KEYS[1])
if log then events = cjson.decode(log) end
table.insert(events, cjson.decode(ARGV[1]))
while #events > tonumber(ARGV[2]) do table.remove(events, 1) end
redis.call('SET', KEYS[1], cjson.encode(events), 'EX', ARGV[3])
return #events`

// BenchmarkPublishNaiveEventLog is PUBLISH plus the naive append per
// event, for comparison.
func BenchmarkPublishNaiveEventLog(b *testing.B) {
	client := benchClient(b)
	script := redis.NewScript(naiveEventLogLua)
	raw := benchEnvelope(b)
	b.SetBytes(int64(len(raw)))
	channel := protocol.Channel(protocol.TypeHealthAlert)
	keys := []string{protocol.EventLogKey(protocol.TypeHealthAlert)}
	b.SetParallelism(benchParallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if err := client.Publish(ctx, channel, raw).Err(); err != nil {
				b.Error(err)
				return
			}
			if err := script.Run(ctx, client, keys, raw, protocol.EventLogMax, 3600).Err(); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportRate(b, false)
	b.StopTimer()
	checkBenchLog(b, client, min(b.N, protocol.EventLogMax))
}

// checkBenchLog makes sure a benchmark measured a working log.
func checkBenchLog(b *testing.B, client *redis.Client, want int) {
	s, err := client.Get(context.Background(), protocol.EventLogKey(protocol.TypeHealthAlert)).Result()
	if err != nil {
		b.Fatal(err)
	}
	var entries []json.RawMessage
	if err := json.Unmarshal([]byte(s), &entries); err != nil || len(entries) != want {
		b.Fatalf("event log holds %d entries (%v), want %d", len(entries), err, want)
	}
}

// BenchmarkRoundTripAfterIdle measures one Redis round trip (PING) that
// comes after a quiet spell, as a lone alert's reads and writes do: the
// server and the client are asleep, and waking them is part of the trip.
// Each trip follows a pause; ns/op counts the pause, p50-µs/trip the trip
// alone, and "0s" is the same trip back to back, the baseline of the same
// run.
func BenchmarkRoundTripAfterIdle(b *testing.B) {
	client := benchClient(b)
	ctx := context.Background()
	for _, pause := range []time.Duration{0, time.Millisecond, 10 * time.Millisecond, 100 * time.Millisecond} {
		b.Run(pause.String(), func(b *testing.B) {
			var took []time.Duration
			for b.Loop() {
				time.Sleep(pause)
				start := time.Now()
				if err := client.Ping(ctx).Err(); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(start))
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Nanoseconds())/1e3, "p50-µs/trip")
		})
	}
}
