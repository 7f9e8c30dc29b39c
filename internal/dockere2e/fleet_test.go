package dockere2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
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
// once, and each incident is told once, in its own thread. The first
// engine has a second daemon standing by: the active one is SIGKILLed, the
// standby takes the lease over, and a second incident on every engine is
// healed as the first. The shared engine plays no part. Run alone:
// go test ./internal/dockere2e -run TestFleetThreeEngines.
func TestFleetThreeEngines(t *testing.T) {
	srv := testenv.StartRedis(t)
	rdb := srv.Client(t)
	f := startFleet(t, fmt.Sprintf("address = %q", srv.Addr()), rdb, func(ch string) int64 {
		return rdb.PubSubNumSub(t.Context(), ch).Val()[ch]
	})
	p := scenarioPrefix()
	f.incident(t, p+"web")
	f.killActive(t)
	f.incident(t, p+"api")
	f.checkNotifications(t, 2)
}

// TestFleetOnCluster: the same fleet on a Redis Cluster of six
// redis-servers (three masters, three replicas). After a first incident
// the first host's active daemon is SIGKILLed and its standby takes over;
// then the master serving the health alerts' event log is SIGKILLed; once its
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
	f.killActive(t)
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

// TestFleetOnSentinel: the same fleet on a Sentinel setup — one master,
// one replica, three Sentinels — which every daemon reaches through the
// Sentinels. After a first incident the first host's active daemon is
// SIGKILLed and its standby takes over; then the master is SIGKILLed, and
// once the
// Sentinels have promoted the replica, a second incident on every engine
// is healed as the first: restarted once by its own host, judged once,
// told once. Run alone: go test ./internal/dockere2e -run TestFleetOnSentinel.
func TestFleetOnSentinel(t *testing.T) {
	master := testenv.StartRedis(t)
	replica := testenv.StartRedis(t, "--replicaof", "127.0.0.1", fmt.Sprint(master.Port()))
	var sentinels, quoted []string
	for range 3 {
		s := testenv.StartSentinel(t, "hemostat", master, testenv.SentinelQuorum(2), testenv.SentinelDownAfter(time.Second))
		sentinels = append(sentinels, s.Addr())
		quoted = append(quoted, fmt.Sprintf("%q", s.Addr()))
	}
	replicaRDB := replica.Client(t)
	role := func(want string) bool {
		info, err := replicaRDB.Info(t.Context(), "replication").Result()
		return err == nil && strings.Contains(info, want)
	}
	waitUntil(t, "the replica in sync with the master", time.Minute, func() bool { return role("master_link_status:up") })
	// The watcher follows the Sentinels as the daemons do, so that it
	// hears the second incident on the promoted replica.
	watchRDB := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: "hemostat", SentinelAddrs: sentinels})
	t.Cleanup(func() { watchRDB.Close() })
	subscribed := func(ch string) int64 {
		return watchRDB.PubSubNumSub(t.Context(), ch).Val()[ch]
	}
	f := startFleet(t, fmt.Sprintf("addresses = [%s]\nsentinel_master = \"hemostat\"", strings.Join(quoted, ", ")), watchRDB, subscribed)
	p := scenarioPrefix()
	f.incident(t, p+"web")
	f.killActive(t)
	killed := time.Now()
	master.Kill(t)
	waitUntil(t, "the replica promoted by the Sentinels", time.Minute, func() bool { return role("role:master") })
	t.Logf("failover: the replica was promoted %v after the master's SIGKILL", time.Since(killed).Round(time.Millisecond))
	// As on the Cluster: a lease that lapsed during the failover is taken
	// again within a ttl, and the roles listen on the new master.
	time.Sleep(fleetLeaseTTL)
	f.waitActive(t)
	f.waitSubscribed(t, subscribed)
	f.incident(t, p+"api")
	f.checkNotifications(t, 2)
}

// waitUntil polls ok every 100 ms until it holds, failing the test after
// timeout.
func waitUntil(t *testing.T, what string, timeout time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// fleet is three engines, each with its hemostatd, on one Redis, and a
// second hemostatd on the first engine that stands by.
type fleet struct {
	engines []*testenv.Engine
	// members are each host's daemons: the first host has two, which
	// share its lease; killed are those SIGKILLed since.
	members [][]*daemontest.Daemon
	killed  map[*daemontest.Daemon]bool
	hosts   []string
	images  []string
	fs      *fakeslack.Server
	watch   *daemontest.Watcher
}

// startFleet starts three private engines and one hemostatd with
// fleet = true on each, plus a standby on the first, given the body of
// their redis block; watchRDB records the envelopes, subscribed counts a
// channel's subscribers.
func startFleet(t *testing.T, redisBlock string, watchRDB *redis.Client, subscribed func(ch string) int64) *fleet {
	f := &fleet{engines: testenv.StartEngines(t, 3), fs: fakeslack.New(t), killed: map[*daemontest.Daemon]bool{}}
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
	start := func(i int) *daemontest.Daemon {
		addr := daemontest.FreeAddr(t)
		return daemontest.Start(t, daemontest.Options{HTTP: addr, Config: fleetConfig(f.hosts[i], f.engines[i].Host, redisBlock, addr, filepath.Join(t.TempDir(), "plugins"), f.fs)})
	}
	for i := range f.engines {
		f.members = append(f.members, []*daemontest.Daemon{start(i)})
	}
	f.waitSubscribed(t, subscribed)
	f.waitActive(t)
	f.members[0] = append(f.members[0], start(0))
	return f
}

// fleetLeaseTTL is the lease ttl of fleetConfig.
const fleetLeaseTTL = 5 * time.Second

// waitActive waits until a daemon of every host holds the host's lease,
// as its own hemostat_lease_active says.
func (f *fleet) waitActive(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for i := range f.hosts {
		for f.active(t, i) == nil {
			if time.Now().After(deadline) {
				t.Fatalf("no daemon of %s holds its lease a minute on", f.hosts[i])
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// active is the live daemon of host i that says it holds the lease, nil
// when none does.
func (f *fleet) active(t *testing.T, i int) *daemontest.Daemon {
	for _, d := range f.members[i] {
		if !f.killed[d] && strings.Contains(d.Metrics(t), "\nhemostat_lease_active 1\n") {
			return d
		}
	}
	return nil
}

// killActive SIGKILLs the daemon acting on the first host's engine and
// waits until its standby has taken the lease over.
func (f *fleet) killActive(t *testing.T) {
	t.Helper()
	d := f.active(t, 0)
	if d == nil {
		t.Fatalf("no daemon of %s is active", f.hosts[0])
	}
	d.StopWith(syscall.SIGKILL)
	f.killed[d] = true
	killed := time.Now()
	for f.active(t, 0) == nil {
		if time.Since(killed) > 3*fleetLeaseTTL {
			t.Fatalf("the standby of %s did not take the lease within 3× its ttl after the active daemon's SIGKILL", f.hosts[0])
		}
		time.Sleep(20 * time.Millisecond)
	}
	took := time.Since(killed)
	t.Logf("%s: the standby took over %s after the SIGKILL, %.2f× the lease ttl", f.hosts[0], took.Round(time.Millisecond), took.Seconds()/fleetLeaseTTL.Seconds())
}

// waitSubscribed waits until a daemon of every host listens with each
// role: at least one analyzer, responder and alert role per host (a
// standby subscribes too).
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
redis {
  %s
}
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
