package dockere2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/daemontest"
	"github.com/hemostat/hemostat/internal/fakeslack"
	"github.com/hemostat/hemostat/internal/testenv"
	"github.com/redis/go-redis/v9"
)

// TestFleetThreeEngines: three Docker engines on one machine — private
// dockerd processes, each with its own data root, exec root and socket —
// one hemostatd per engine with fleet = true, one redis-server, one fake
// Slack. A container of the same name crashes once on every engine: each is
// restarted exactly once by its own host's daemon, each alert is judged
// once, and each incident is told once, in its own thread. The shared
// engine plays no part. Run alone:
// go test ./internal/dockere2e -run TestFleetThreeEngines.
func TestFleetThreeEngines(t *testing.T) {
	srv := testenv.StartRedis(t)
	rdb := srv.Client(t)
	f := startFleet(t, fmt.Sprintf("address = %q", srv.Addr()), rdb, func(ch string) int64 {
		return rdb.PubSubNumSub(t.Context(), ch).Val()[ch]
	})
	f.incident(t, scenarioPrefix()+"web")
	f.checkNotifications(t, 1)
}

// TestFleetOnCluster: the same fleet on a Redis Cluster of six
// redis-servers (three masters, three replicas). After a first incident
// the master serving the health alerts' event log is SIGKILLed; once its
// replica has taken over, a second incident on every engine is healed as
// the first: restarted once by its own host, judged once, told once. Run
// alone: go test ./internal/dockere2e -run TestFleetOnCluster.
func TestFleetOnCluster(t *testing.T) {
	cl := testenv.StartCluster(t)
	victim := cl.MasterOf(t, protocol.EventLogKey(protocol.TypeHealthAlert))
	addrs := make([]string, 0, len(cl.Nodes))
	var watchAddr string
	for _, a := range cl.Addrs() {
		addrs = append(addrs, fmt.Sprintf("%q", a))
		if watchAddr == "" && a != victim.Addr() {
			watchAddr = a
		}
	}
	// Classic pub/sub on a Cluster reaches every node, so a watcher on
	// one node that outlives the failover sees the whole flow; the
	// daemons' subscriptions are spread over the nodes, so they are
	// counted on all of them.
	watchRDB := redis.NewClient(&redis.Options{Addr: watchAddr})
	t.Cleanup(func() { watchRDB.Close() })
	subscribed := func(ch string) int64 {
		var n int64
		for _, a := range cl.Addrs() {
			// A killed node answers nothing and counts nothing.
			c := redis.NewClient(&redis.Options{Addr: a, MaxRetries: -1})
			n += c.PubSubNumSub(t.Context(), ch).Val()[ch]
			c.Close()
		}
		return n
	}
	f := startFleet(t, "addresses = ["+strings.Join(addrs, ", ")+"]", watchRDB, subscribed)
	p := scenarioPrefix()
	f.incident(t, p+"web")
	took := cl.KillMaster(t, protocol.EventLogKey(protocol.TypeHealthAlert))
	t.Logf("failover of %s took %v", victim.Addr(), took)
	// A daemon whose lease lived on the killed master may have lapsed
	// into standby during the failover; by a ttl later every daemon has
	// noticed, and the fleet goes on once each holds its lease again.
	time.Sleep(fleetLeaseTTL)
	f.waitActive(t)
	f.waitSubscribed(t, subscribed)
	f.incident(t, p+"api")
	f.checkNotifications(t, 2)
}

// fleet is three engines, each with its hemostatd, on one Redis.
type fleet struct {
	engines []*testenv.Engine
	daemons []*daemontest.Daemon
	hosts   []string
	images  []string
	fs      *fakeslack.Server
	watch   *daemontest.Watcher
}

// startFleet starts three private engines and one hemostatd with
// fleet = true on each, given the body of their redis block; watchRDB
// records the envelopes, subscribed counts a channel's subscribers.
func startFleet(t *testing.T, redisBlock string, watchRDB *redis.Client, subscribed func(ch string) int64) *fleet {
	f := &fleet{engines: testenv.StartEngines(t, 3), fs: fakeslack.New(t)}
	f.watch = daemontest.Watch(t, watchRDB)
	p := scenarioPrefix()
	f.hosts = make([]string, len(f.engines))
	f.images = make([]string, len(f.engines))
	var wg sync.WaitGroup
	for i, e := range f.engines {
		f.hosts[i] = fmt.Sprintf("%s-host%d", p, i+1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.images[i] = e.Image(t)
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	for i, e := range f.engines {
		addr := daemontest.FreeAddr(t)
		f.daemons = append(f.daemons, daemontest.Start(t, daemontest.Options{HTTP: addr, Config: fleetConfig(f.hosts[i], e.Host, redisBlock, addr, filepath.Join(t.TempDir(), "plugins"), f.fs)}))
	}
	f.waitSubscribed(t, subscribed)
	return f
}

// fleetLeaseTTL is the lease ttl of fleetConfig.
const fleetLeaseTTL = 5 * time.Second

// waitActive waits until every daemon holds its engine's lease, as its
// own hemostat_lease_active says.
func (f *fleet) waitActive(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for i, d := range f.daemons {
		for !strings.Contains(d.Metrics(t), "\nhemostat_lease_active 1\n") {
			if time.Now().After(deadline) {
				t.Fatalf("%s's daemon does not hold its lease again a minute after the failover", f.hosts[i])
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// waitSubscribed waits until every daemon's roles listen: three
// analyzers, three responders, three alert roles, and each overview.
func (f *fleet) waitSubscribed(t *testing.T, subscribed func(ch string) int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for _, et := range []string{"health_alert", "remediation_needed", "remediation_complete"} {
		ch := protocol.Channel(et)
		for subscribed(ch) < int64(len(f.engines)) {
			if time.Now().After(deadline) {
				t.Fatalf("fewer than %d hemostatd subscribed to %s", len(f.engines), ch)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// incident crashes a container called name once on every engine, three
// seconds after its start (the restarted container finds its marker and
// stays up), and checks that each was restarted exactly once by its own
// host's daemon under its qualified name.
func (f *fleet) incident(t *testing.T, name string) {
	t.Helper()
	ids := make([]string, len(f.engines))
	for i, e := range f.engines {
		ids[i] = testenv.RunContainer(t, e.Client, name, &container.Config{
			Image: f.images[i], Cmd: []string{"--exit", "1", "--after", "3s", "--exit-once", "/tmp/crashed"},
		}, nil)
	}
	for i, h := range f.hosts {
		f.watch.WaitFor(t, "remediation_complete", h+"/"+name, daemontest.StatusIs("success"), 2*time.Minute)
		waitRunning(t, f.engines[i], ids[i])
	}
	for _, h := range f.hosts {
		f.watch.Quiet(t, h+"/"+name, 5*time.Second, time.Minute)
	}
	for i, h := range f.hosts {
		c := h + "/" + name
		f.watch.ExpectTrace(t, c,
			"health_alert Exited with code 1",
			"remediation_needed restart",
			"remediation_complete restart success")
		for _, m := range f.watch.Of(c) {
			if got := m.Str("host"); got != h {
				t.Errorf("%s from host %q, want %q (its own daemon): %s", m.Type(), got, h, m.Raw)
			}
		}
		if n := f.watch.Count("health_alert", name); n != 0 {
			t.Errorf("%d alerts named the bare %s: names must be qualified in a fleet", n, name)
		}
		// The engine's own count: one start by the test, one restart by
		// hemostatd; nothing restarted another host's container.
		ins, err := f.engines[i].Client.ContainerInspect(t.Context(), ids[i])
		if err != nil || !ins.State.Running || ins.State.ExitCode != 0 {
			t.Errorf("%s: %+v (%v), want running again", c, ins.State, err)
		}
	}
}

// checkNotifications checks one notification per incident: each
// container's restart in its host's own thread, none about another host's
// container, incidents per host in all.
func (f *fleet) checkNotifications(t *testing.T, incidents int) {
	t.Helper()
	posts := f.fs.Calls("chat.postMessage")
	for _, h := range f.hosts {
		n := 0
		for _, post := range posts {
			if strings.Contains(post.Form.Get("text"), h+"/") {
				n++
			}
		}
		if n != incidents {
			t.Errorf("%d Slack messages about %s's containers, want %d:\n%s", n, h, incidents, texts(posts))
		}
	}
	if want := incidents * len(f.hosts); len(posts) != want {
		t.Errorf("%d Slack messages, want %d:\n%s", len(posts), want, texts(posts))
	}
}

// waitRunning waits until the container runs again.
func waitRunning(t *testing.T, e *testenv.Engine, id string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		c, err := e.Client.ContainerInspect(t.Context(), id)
		if err == nil && c.State.Running {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s on %s is not running again: %+v, %v", id[:12], e.Host, c.State, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// fleetConfig is one fleet member's configuration: its host name, its own
// engine for the monitor and the responder, the shared Redis, and the
// fake Slack in bot mode (threads).
func fleetConfig(host, engine, redisBlock, httpAddr, plugins string, fs *fakeslack.Server) string {
	return fmt.Sprintf(`
log_level  = "debug"
plugin_dir = %q
host       = %q
fleet      = true
redis { %s }
http  { address = %q }
lease { ttl = "5s" }
monitor {
  grace = "0s"
  plugin "docker" {
    config {
      docker_host = %q
      interval    = "1s"
    }
  }
}
responder {
  backoff {
    initial = "1s"
    max     = "4s"
  }
  plugin "docker" {
    config {
      docker_host    = %q
      stop_timeout   = "2s"
      verify_timeout = "30s"
      start_grace    = "0s"
    }
  }
}
alert {
  dedupe_window = "0s"
  plugin "slack" {
    config {
      token   = %q
      channel = "#ops"
      api_url = %q
    }
  }
}
`, plugins, host, redisBlock, httpAddr, engine, engine, fakeslack.Token, fs.APIURL())
}
