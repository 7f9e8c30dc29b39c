package bus

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/testenv"
)

// BenchmarkEventLogAppend measures what one event-log append costs Redis
// itself — the CPU its single thread spends in the script, from INFO
// commandstats — with a full log of decision-sized envelopes (about 600
// bytes), per batch size. The baseline of the same run is the least any
// writer of the protocol's JSON array pays: one SET of the whole array.
//
//	go test -run '^$' -bench EventLogAppend ./host/bus
func BenchmarkEventLogAppend(b *testing.B) {
	srv := testenv.StartRedis(b)
	client := srv.Client(b)
	ctx := context.Background()
	log := newEventLog(client, Options{}.withDefaults(), testLogger(b), newMetrics(nil))
	envelope := func(i int) string {
		return fmt.Sprintf(`{"timestamp":"2026-12-03T17:00:00.%06d","agent":"HemoStat-Analyzer","type":"remediation_needed","data":{"container":"web-%d","action":"restart","reason":"%s","confidence":0.9}}`,
			i%1_000_000, i, strings.Repeat("r", 430))
	}
	next := 0
	batchOf := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = envelope(next)
			next++
		}
		return out
	}
	const eventType = "bench_decision"
	if err := log.write(ctx, eventType, batchOf(protocol.EventLogMax), protocol.EventLogMax); err != nil {
		b.Fatal(err)
	}
	whole := client.Get(ctx, protocol.EventLogKey(eventType)).Val()
	for _, n := range []int{1, 10, 40, 100} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			var script, set time.Duration
			for b.Loop() {
				batch := batchOf(n)
				before := commandTime(b, client)
				if err := log.write(ctx, eventType, batch, 0); err != nil {
					b.Fatal(err)
				}
				mid := commandTime(b, client)
				if err := client.Set(ctx, "bench:array", whole, time.Hour).Err(); err != nil {
					b.Fatal(err)
				}
				after := commandTime(b, client)
				script += mid["evalsha"] - before["evalsha"]
				set += after["set"] - mid["set"]
			}
			calls := float64(b.N)
			b.ReportMetric(float64(script.Microseconds())/calls, "redis-µs/call")
			b.ReportMetric(float64(script.Microseconds())/calls/float64(n), "redis-µs/envelope")
			b.ReportMetric(float64(set.Microseconds())/calls, "set-whole-array-µs/call")
			b.ReportMetric(float64(script)/float64(set), "x-set")
		})
	}
	if got := len(readEventLog(b, client, eventType)); got != protocol.EventLogMax {
		b.Fatalf("the log holds %d envelopes, want %d", got, protocol.EventLogMax)
	}
}

// commandTime is the time Redis has spent in each command, by name, from
// INFO commandstats.
func commandTime(b testing.TB, client *redis.Client) map[string]time.Duration {
	b.Helper()
	info, err := client.Info(context.Background(), "commandstats").Result()
	if err != nil {
		b.Fatalf("INFO commandstats: %v", err)
	}
	out := map[string]time.Duration{}
	for _, line := range strings.Split(info, "\n") {
		name, stats, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(line, "cmdstat_")), ":")
		if !ok || line == name {
			continue
		}
		for _, kv := range strings.Split(stats, ",") {
			if v, ok := strings.CutPrefix(kv, "usec="); ok {
				us, _ := strconv.ParseInt(v, 10, 64)
				out[name] = time.Duration(us) * time.Microsecond
			}
		}
	}
	return out
}
