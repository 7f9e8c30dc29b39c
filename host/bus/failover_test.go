package bus

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/host/redisconn"
	"github.com/hemostat/hemostat/internal/testenv"
)

// failoverFlow publishes health alerts for distinct containers at a steady
// pace through one Bus while another Bus, subscribed, collects them: the
// flow a master failover must not silently break.
type failoverFlow struct {
	t        *testing.T
	pub, sub *Bus
	got      collector

	mu       sync.Mutex
	sent     map[string]bool // published without error
	refused  atomic.Int64    // Publish returned an error: the publisher knows
	stopping chan struct{}
	done     chan struct{}
}

func startFailoverFlow(t *testing.T, client redis.UniversalClient) *failoverFlow {
	t.Helper()
	f := &failoverFlow{
		t:        t,
		pub:      newBus(t, client, Options{}),
		sub:      newBus(t, client, Options{RetryInitial: 20 * time.Millisecond, RetryMax: 1000}),
		sent:     map[string]bool{},
		stopping: make(chan struct{}),
		done:     make(chan struct{}),
	}
	f.sub.Subscribe(protocol.TypeHealthAlert, f.got.handle)
	startRun(t, f.sub)
	// PUBSUB NUMSUB answers for one node of a Cluster only, so wait for a
	// probe to arrive instead.
	waitFor(t, "the subscription", func() bool {
		f.publish("probe")
		return f.got.len() > 0
	})
	go f.run()
	return f
}

func (f *failoverFlow) publish(container string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err := f.pub.Publish(ctx, protocol.AgentMonitor, protocol.TypeHealthAlert,
		protocol.HealthAlert{Container: container, Issues: []string{"Container unhealthy"}})
	if err != nil {
		f.refused.Add(1)
		return
	}
	f.mu.Lock()
	f.sent[container] = true
	f.mu.Unlock()
}

func (f *failoverFlow) run() {
	defer close(f.done)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-f.stopping:
			return
		case <-tick.C:
			f.publish(fmt.Sprintf("web-%d", i))
		}
	}
}

// finish stops publishing, waits until everything published was received
// or counted lost, and reports the figures.
func (f *failoverFlow) finish(what string, outage time.Duration) {
	t := f.t
	t.Helper()
	close(f.stopping)
	<-f.done
	missing := func() (missing int, sent int) {
		received := map[string]bool{}
		for _, env := range f.got.all() {
			var a protocol.HealthAlert
			if err := protocol.DecodeData(env, &a); err == nil {
				received[a.Container] = true
			}
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		for c := range f.sent {
			if !received[c] {
				missing++
			}
		}
		return missing, len(f.sent)
	}
	lost := func() int {
		return int(counterValue(t, f.sub.metrics.lost.WithLabelValues(protocol.TypeHealthAlert)))
	}
	// Everything published is received, or counted lost by the bus.
	waitFor(t, "every published alert received or counted lost", func() bool {
		m, _ := missing()
		return m <= lost()
	}, func() string {
		m, sent := missing()
		return fmt.Sprintf("%d published, %d missing, %d counted lost, %v reconnects", sent, m, lost(), counterValue(t, f.sub.metrics.reconnects))
	})
	m, sent := missing()
	t.Logf("%s: outage %s; %d published, %d refused to the publisher, %d received, %d counted lost (%d missing), %v reconnects",
		what, outage.Round(time.Millisecond), sent, f.refused.Load(), sent-m, lost(), m,
		counterValue(t, f.sub.metrics.reconnects))
}

// TestClusterMasterFailover kills the Cluster master serving the alert
// channel mid-flow: its replica takes over, the subscriber reconnects and
// replays, and whatever did not arrive is counted, never silently gone.
func TestClusterMasterFailover(t *testing.T) {
	cluster := testenv.StartCluster(t)
	f := startFailoverFlow(t, cluster.Client(t))
	time.Sleep(500 * time.Millisecond)

	outage := cluster.KillMaster(t, protocol.Channel(protocol.TypeHealthAlert))
	time.Sleep(500 * time.Millisecond) // the flow goes on after the failover
	f.finish("cluster master killed", outage)
}

// TestSentinelFailover kills the master a Sentinel setup (one master, one
// replica, three Sentinels) watches: the Sentinels promote the replica,
// the bus follows them, and the flow goes on with nothing silently lost.
func TestSentinelFailover(t *testing.T) {
	master := testenv.StartRedis(t)
	replica := testenv.StartRedis(t, "--replicaof", "127.0.0.1", fmt.Sprint(master.Port()))
	var sentinels []string
	for i := 0; i < 3; i++ {
		sentinels = append(sentinels, testenv.StartSentinel(t, "hemostat", master, testenv.SentinelQuorum(2), testenv.SentinelDownAfter(time.Second)).Addr())
	}
	replicaClient := replica.Client(t)
	replication := func(want string) func() bool {
		return func() bool {
			info, err := replicaClient.Info(context.Background(), "replication").Result()
			return err == nil && strings.Contains(info, want)
		}
	}
	waitFor(t, "the replica in sync", replication("master_link_status:up"))
	client, closer, err := redisconn.Open(context.Background(), redisconn.Config{Addresses: sentinels, SentinelMaster: "hemostat"}, testLogger(t))
	if err != nil {
		t.Fatalf("open through the Sentinels: %v", err)
	}
	t.Cleanup(func() { closer.Close() })
	f := startFailoverFlow(t, client)
	time.Sleep(500 * time.Millisecond)

	start := time.Now()
	master.Kill(t)
	waitFor(t, "the replica promoted", replication("role:master"))
	outage := time.Since(start)
	time.Sleep(500 * time.Millisecond)
	f.finish("sentinel master killed", outage)
}
