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
	engines := testenv.StartEngines(t, 3)
	fs := fakeslack.New(t)
	srv := testenv.StartRedis(t)
	watch := daemontest.Watch(t, srv.Client(t))
	p := scenarioPrefix()
	name := p + "web"
	hosts := make([]string, len(engines))
	images := make([]string, len(engines))
	var wg sync.WaitGroup
	for i, e := range engines {
		hosts[i] = fmt.Sprintf("%s-host%d", p, i+1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			images[i] = e.Image(t)
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	for i, e := range engines {
		addr := daemontest.FreeAddr(t)
		daemontest.Start(t, daemontest.Options{HTTP: addr, Config: fleetConfig(hosts[i], e.Host, srv.Addr(), addr, filepath.Join(t.TempDir(), "plugins"), fs)})
	}
	// Every daemon's roles listen before the first crash: three analyzers,
	// three responders, three alert roles, and each overview.
	waitSubscribers(t, srv.Client(t), len(engines), "health_alert", "remediation_needed", "remediation_complete")

	// Crash once, three seconds in: the restarted container finds its
	// marker and stays up.
	ids := make([]string, len(engines))
	for i, e := range engines {
		ids[i] = testenv.RunContainer(t, e.Client, name, &container.Config{
			Image: images[i], Cmd: []string{"--exit", "1", "--after", "3s", "--exit-once", "/tmp/crashed"},
		}, nil)
	}
	for i, h := range hosts {
		c := h + "/" + name
		watch.WaitFor(t, "remediation_complete", c, daemontest.StatusIs("success"), 2*time.Minute)
		waitRunning(t, engines[i], ids[i])
	}
	for _, h := range hosts {
		watch.Quiet(t, h+"/"+name, 5*time.Second, time.Minute)
	}
	for i, h := range hosts {
		c := h + "/" + name
		watch.ExpectTrace(t, c,
			"health_alert Exited with code 1",
			"remediation_needed restart",
			"remediation_complete restart success")
		for _, m := range watch.Of(c) {
			if got := m.Str("host"); got != h {
				t.Errorf("%s from host %q, want %q (its own daemon): %s", m.Type(), got, h, m.Raw)
			}
		}
		if n := watch.Count("health_alert", name); n != 0 {
			t.Errorf("%d alerts named the bare %s: names must be qualified in a fleet", n, name)
		}
		// The engine's own count: one start by the test, one restart by
		// hemostatd; nothing restarted another host's container.
		ins, err := engines[i].Client.ContainerInspect(t.Context(), ids[i])
		if err != nil || !ins.State.Running || ins.State.ExitCode != 0 {
			t.Errorf("%s: %+v (%v), want running again", c, ins.State, err)
		}
	}
	// One notification per incident: the restart, in each host's own
	// thread, and none about another host's container.
	posts := fs.Calls("chat.postMessage")
	for _, h := range hosts {
		c := h + "/" + name
		n := 0
		for _, post := range posts {
			if strings.Contains(post.Form.Get("text"), c) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d Slack messages about %s, want 1:\n%s", n, c, texts(posts))
		}
	}
	if len(posts) != len(hosts) {
		t.Errorf("%d Slack messages, want %d:\n%s", len(posts), len(hosts), texts(posts))
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

// waitSubscribers waits until n connections subscribe to each event type's
// channel: one per hemostatd, whose bus holds one subscription for all its
// roles.
func waitSubscribers(t *testing.T, rdb *redis.Client, n int, eventTypes ...string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for _, et := range eventTypes {
		ch := protocol.Channel(et)
		for rdb.PubSubNumSub(t.Context(), ch).Val()[ch] < int64(n) {
			if time.Now().After(deadline) {
				t.Fatalf("fewer than %d hemostatd subscribed to %s", n, ch)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// fleetConfig is one fleet member's configuration: its host name, its own
// engine for the monitor and the responder, the shared Redis, and the
// fake Slack in bot mode (threads).
func fleetConfig(host, engine, redisAddr, httpAddr, plugins string, fs *fakeslack.Server) string {
	return fmt.Sprintf(`
log_level  = "debug"
plugin_dir = %q
host       = %q
fleet      = true
redis { address = %q }
http  { address = %q }
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
`, plugins, host, redisAddr, httpAddr, engine, engine, fakeslack.Token, fs.APIURL())
}
