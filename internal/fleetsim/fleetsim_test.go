package fleetsim

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/testenv"
)

// TestRunWritesWhatAFleetWrites runs a small fleet against a real
// redis-server and checks that the load it claims is the load Redis got:
// every host's containers have stats keys with the protocol's TTL, the
// event logs hold the incidents' envelopes, every subscriber read them,
// and the figures are those of a run that did something.
func TestRunWritesWhatAFleetWrites(t *testing.T) {
	srv := testenv.StartRedis(t)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { c.Close() })
	ctx := context.Background()

	l := Load{Hosts: 4, ContainersPerHost: 3, SampleEvery: 200 * time.Millisecond,
		IncidentsPerHostHour: 3600 * 5, Duration: 2 * time.Second}
	res, err := Run(ctx, Target{Client: c, Nodes: []string{srv.Addr()}, SubscribeTo: []string{srv.Addr()}}, l)
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != 0 {
		t.Errorf("%d writes failed", res.Errors)
	}
	if res.Samples <= 0 || res.Envelopes <= 0 || res.Commands <= 0 || res.CPU <= 0 {
		t.Errorf("a run that wrote nothing: %+v", res)
	}
	if res.Cut != 0 {
		t.Errorf("%d subscribers cut at a trickle", res.Cut)
	}
	if res.Delivered <= 0 {
		t.Error("the subscribers read nothing")
	}
	for h := 0; h < l.Hosts; h++ {
		for ci := 0; ci < l.ContainersPerHost; ci++ {
			key := protocol.StatsKey(container(h, ci))
			ttl, err := c.TTL(ctx, key).Result()
			if err != nil || ttl <= 0 || ttl > protocol.StatsTTL {
				t.Errorf("%s: TTL %v, %v; want a stats key expiring within %s", key, ttl, err, protocol.StatsTTL)
			}
		}
	}
	for _, typ := range []string{protocol.TypeHealthAlert, protocol.TypeRemediationNeeded, protocol.TypeRemediationComplete} {
		log, err := c.Get(ctx, protocol.EventLogKey(typ)).Result()
		if err != nil || !strings.Contains(log, "host-0000") {
			t.Errorf("event log of %s: %v %.80q; want the incidents' envelopes", typ, err, log)
		}
	}
	var published bool
	for _, ct := range res.Time {
		published = published || ct.Name == "publish"
	}
	if !published {
		t.Errorf("commandstats show no PUBLISH: %+v", res.Time)
	}
}

// BenchmarkFleet runs 100, 1 000 and 10 000 simulated hosts against one
// redis-server and against a 3-master Redis Cluster. Each sub-benchmark is
// one measured run of Load.Duration; run them once each:
//
//	go test -run '^$' -bench Fleet -benchtime 1x -timeout 30m ./internal/fleetsim
//
// Every row reports Redis's CPU as a ratio to the first row's (100 hosts
// on one redis-server, same run), and logs the commands that took Redis's
// time.
func BenchmarkFleet(b *testing.B) {
	// A saturated Redis makes go-redis log every failed dial; the errors
	// are counted in the figures instead.
	redis.SetLogger(quiet{})
	var baseline struct {
		sync.Mutex
		cpu float64
	}
	setups := []struct {
		name  string
		start func(b *testing.B) Target
	}{
		{"redis", func(b *testing.B) Target {
			srv := testenv.StartRedis(b, "--maxclients", "11000")
			c := redis.NewClient(&redis.Options{Addr: srv.Addr(), PoolSize: 300})
			b.Cleanup(func() { c.Close() })
			return Target{Client: c, Nodes: []string{srv.Addr()}, SubscribeTo: []string{srv.Addr()}}
		}},
		{"cluster", func(b *testing.B) Target {
			cl := testenv.StartCluster(b, "--maxclients", "11000")
			c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Addrs(), PoolSize: 100})
			b.Cleanup(func() { c.Close() })
			return Target{Client: c, Nodes: cl.Addrs(), SubscribeTo: cl.Masters(b)}
		}},
	}
	for _, setup := range setups {
		b.Run(setup.name, func(b *testing.B) {
			target := setup.start(b)
			for _, row := range []struct {
				hosts, subscribers int
			}{
				{100, 0}, {1000, 0}, {3000, 0}, {10000, 0},
				// Every daemon hearing only its own host's envelopes,
				// and three aggregators (dashboards) hearing all.
				{10000, 3},
			} {
				name := fmt.Sprintf("hosts=%d", row.hosts)
				if row.subscribers > 0 {
					name += fmt.Sprintf(",subscribers=%d", row.subscribers)
				}
				b.Run(name, func(b *testing.B) {
					hosts := row.hosts
					res, err := Run(context.Background(), target, Load{Hosts: hosts, Subscribers: row.subscribers})
					if err != nil {
						b.Fatal(err)
					}
					baseline.Lock()
					if baseline.cpu == 0 {
						baseline.cpu = res.CPU
					}
					base := baseline.cpu
					baseline.Unlock()
					b.ReportMetric(res.Samples/res.Load.SampleRate(), "samples-achieved")
					b.ReportMetric(res.Envelopes/res.Load.EnvelopeRate(), "envelopes-achieved")
					b.ReportMetric(res.Commands, "cmds/s")
					b.ReportMetric(res.CPU, "redis-cores")
					b.ReportMetric(res.Busiest, "busiest-node-cores")
					b.ReportMetric(res.CPU/base, "x-cpu-100-hosts")
					b.ReportMetric(float64(res.PublishP50.Microseconds())/1000, "publish-p50-ms")
					b.ReportMetric(float64(res.PublishP99.Microseconds())/1000, "publish-p99-ms")
					b.ReportMetric(res.Delivered/1e6, "fanout-MB/s")
					b.ReportMetric(float64(res.Cut), "subscribers-cut")
					b.ReportMetric(float64(res.Errors), "errors")
					b.ReportMetric(res.Generator, "generator-cores")
					b.Logf("%s %s: samples %.0f/s of %.0f, envelopes %.1f/s of %.1f, command time: %s",
						setup.name, name, res.Samples, res.Load.SampleRate(), res.Envelopes, res.Load.EnvelopeRate(), res.Top(6))
				})
			}
		})
	}
}

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}
