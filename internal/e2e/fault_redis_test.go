package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/bus"
	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/daemontest"
	"github.com/hemostat/hemostat/internal/testenv"
)

// TestFaultRedisKilled: redis-server SIGKILLed while alerts flow, and
// started again after an outage. Pub/sub keeps nothing for a subscriber
// that is away, and a killed server loses its event logs, so alerts
// published while hemostatd was resubscribing reach nobody: they are
// counted here, not hidden. Every alert hemostatd received is decided,
// and once it has resubscribed every alert is decided again.
func TestFaultRedisKilled(t *testing.T) {
	for _, outage := range []time.Duration{5 * time.Second, 40 * time.Second} {
		t.Run(outage.String(), func(t *testing.T) {
			row := daemontest.Fault(t, fmt.Sprintf("redis-server SIGKILLed mid-flow, back after %s (pub/sub)", outage))
			srv := testenv.StartRedis(t)
			d := startDaemon(t, srv, baseConfig)
			w := daemontest.Watch(t, d.rdb)
			waitSubscribers(t, d, protocol.TypeHealthAlert, 1)

			f := startFlow(t, srv, fmt.Sprintf("flow%s", outage))
			time.Sleep(3 * time.Second)
			killed := time.Now()
			srv.Kill(t)
			time.Sleep(outage)
			srv.Restart(t)
			back := time.Now()
			for _, typ := range []string{protocol.TypeHealthAlert, protocol.TypeRemediationNeeded, protocol.TypeRemediationComplete} {
				waitSubscribers(t, d, typ, 1)
			}
			resubscribed := time.Now()
			time.Sleep(3 * time.Second)
			alerts := f.stop()

			// Every alert is waited for, then counted by its fate.
			var sent, unsent, noReceiver, decided, lateMissing int
			var missing []string
			deadline := time.Now().Add(faultWait)
			for _, a := range alerts {
				if !a.sent {
					unsent++
					continue
				}
				sent++
				if a.receivers == 0 {
					noReceiver++
				}
				// Decided for sure: what was published well before the
				// kill or well after the resubscription, and whatever
				// reached hemostatd's subscription after the restart (a
				// daemon whose lease lapsed in the outage takes it again
				// before it listens, so it drops none as a standby).
				must := a.at.Before(killed.Add(-time.Second)) || a.at.After(resubscribed.Add(time.Second)) ||
					(a.receivers > 0 && a.at.After(killed))
				if must {
					if !waitDecided(w, a.container, time.Until(deadline)) {
						missing = append(missing, a.container)
					}
				}
				if w.Count(protocol.TypeRemediationNeeded, a.container)+w.Count(protocol.TypeFalseAlarm, a.container)+w.Count(protocol.TypeEscalation, a.container) > 0 {
					decided++
				} else if !must {
					lateMissing++
				}
			}
			lost := metricSum(d.Metrics(t), "hemostat_bus_lost_total")
			row.Figure("%d alerts sent (%d refused while down), %d decided; %d reached no subscriber while hemostatd resubscribed (%s after the restart); %d published around the cut undecided; hemostat_bus_lost_total %d",
				sent, unsent, decided, noReceiver, resubscribed.Sub(back).Round(100*time.Millisecond), lateMissing, lost)
			if len(missing) > 0 {
				t.Errorf("%d alerts published well before the kill, after the resubscription or heard by hemostatd after the restart were never decided: %v", len(missing), missing)
			}
			d.Alive(t)
			row.Outcome("reconnected and resubscribed by itself; every alert received decided; what pub/sub dropped is counted")
		})
	}
}

// flowAlert is one alert a flow tried to publish.
type flowAlert struct {
	container string
	at        time.Time
	sent      bool
	// receivers is how many of hemostatd's subscriptions the alert
	// reached.
	receivers int64
}

// flow publishes a health alert for a new container every 50 ms through
// its own connection, as an external monitor would, until stopped.
type flow struct {
	// streamed makes each alert a PUBLISH and an XADD of the same bytes,
	// as an agent speaking the streams extension sends it.
	streamed bool
	stopCh   chan struct{}
	done     chan struct{}
	mu       sync.Mutex
	alerts   []flowAlert
}

func startFlow(t *testing.T, srv *testenv.RedisServer, tag string) *flow {
	t.Helper()
	return runFlow(t, srv, tag, &flow{})
}

// startStreamedFlow is startFlow for the streams extension.
func startStreamedFlow(t *testing.T, srv *testenv.RedisServer, tag string) *flow {
	t.Helper()
	return runFlow(t, srv, tag, &flow{streamed: true})
}

func runFlow(t *testing.T, srv *testenv.RedisServer, tag string, f *flow) *flow {
	t.Helper()
	rdb := srv.Client(t)
	f.stopCh, f.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(f.done)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-f.stopCh:
				return
			case <-tick.C:
			}
			c := fmt.Sprintf("%s-%d", tag, i)
			a := flowAlert{container: c, at: time.Now()}
			env, err := protocol.NewEnvelope(protocol.AgentMonitor, protocol.TypeHealthAlert, protocol.HealthAlert{
				Container: c, Issues: []string{protocol.IssueExited(1)},
				Metrics: map[string]any{"name": c, "status": "exited", "cpu_pct": 0.0, "memory_pct": 1.5, "timestamp": "2025-11-03T10:30:45"},
			}, a.at)
			if err == nil {
				raw, _ := json.Marshal(env)
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				// PUBLISH's count includes the test's own watcher, a
				// pattern subscriber: the channel's subscribers, counted
				// in the same transaction, are hemostatd's alone.
				ch := protocol.Channel(protocol.TypeHealthAlert)
				var subs *redis.MapStringIntCmd
				_, err = rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
					subs = p.PubSubNumSub(ctx, ch)
					p.Publish(ctx, ch, raw)
					if f.streamed {
						p.XAdd(ctx, &redis.XAddArgs{Stream: bus.StreamKey(protocol.TypeHealthAlert), MaxLen: bus.StreamMaxLen, Approx: true,
							Values: []any{bus.StreamField, raw}})
					}
					return nil
				})
				a.sent, a.receivers = err == nil, subs.Val()[ch]
				cancel()
			}
			f.mu.Lock()
			f.alerts = append(f.alerts, a)
			f.mu.Unlock()
		}
	}()
	t.Cleanup(func() { f.stop() })
	return f
}

// stop ends the flow and returns what it tried to publish.
func (f *flow) stop() []flowAlert {
	select {
	case <-f.stopCh:
	default:
		close(f.stopCh)
	}
	<-f.done
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.alerts
}

// waitDecided waits for a decision about container.
func waitDecided(w *daemontest.Watcher, container string, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for {
		if w.Count(protocol.TypeRemediationNeeded, container)+w.Count(protocol.TypeFalseAlarm, container)+w.Count(protocol.TypeEscalation, container) > 0 {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// metricSum adds up every series of a metric in /metrics text.
func metricSum(text, name string) int {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `(?:\{[^}]*\})? (\S+)`)
	total := 0
	for _, m := range re.FindAllStringSubmatch(text, -1) {
		v, _ := strconv.ParseFloat(m[1], 64)
		total += int(v)
	}
	return total
}
