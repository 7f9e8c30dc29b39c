package dockere2e

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/hemostat/hemostat/internal/daemontest"
	"github.com/hemostat/hemostat/internal/testenv"
)

// engineFaultVerify is the docker responder's verify_timeout in the engine
// fault: long enough that the restart of the engine, not the timeout,
// ends the action under way.
const engineFaultVerify = 90 * time.Second

// TestFaultEngineRestartedMidRemediation: a private Docker engine — never
// the shared one — is restarted (SIGTERM, then started again on the same
// data root and socket) while hemostatd's responder is in the middle of
// restarting a crashed container: the container is back but its health
// check has not passed yet, so the action is still verifying. The action
// must end as failed with a clear reason, not hang until its timeout;
// the monitor must reconnect to the engine's event stream by itself, so
// that the next crash is healed; and nothing is left behind: the same
// plugin processes, no request without its result, no container of the
// engine stuck between states.
func TestFaultEngineRestartedMidRemediation(t *testing.T) {
	row := daemontest.Fault(t, "dockerd restarted (SIGTERM, started again on the same data root) mid-remediation")
	e := testenv.StartEngine(t)
	image := e.Image(t)
	srv := testenv.StartRedis(t)
	rdb := srv.Client(t)
	watch := daemontest.Watch(t, rdb)
	addr := daemontest.FreeAddr(t)
	d := daemontest.Start(t, daemontest.Options{HTTP: addr, Config: engineFaultConfig(srv.Addr(), addr, filepath.Join(t.TempDir(), "plugins"), e.Host)})
	daemontest.WaitSubscribed(t, rdb, "health_alert", "remediation_needed")
	before := pluginPIDs(t, d)

	// A crash that one restart cures, with a health check whose first
	// probe is minutes away: the restarted container runs, and the
	// responder waits for it to be healthy — mid-remediation.
	slow := "hsfault-slow"
	id := testenv.RunContainer(t, e.Client, slow, &container.Config{
		Image: image, Cmd: []string{"--exit", "1", "--after", "2s", "--exit-once", "/tmp/crashed"},
		Healthcheck: &container.HealthConfig{Test: []string{"CMD", "/sickapp", "health"}, Interval: 5 * time.Minute},
	}, nil)
	first := waitContainer(t, e, id, "running", running)
	waitContainer(t, e, id, "exited after its crash", exitedOnce)
	watch.WaitFor(t, "remediation_needed", slow, nil, time.Minute)
	waitContainer(t, e, id, "started again by the responder", startedAfter(first))
	if n := watch.Count("remediation_complete", slow); n != 0 {
		t.Fatalf("the action ended before the engine was restarted: %s", watch.Dump(slow))
	}

	sent := time.Now()
	down, up := e.Restart(t, syscall.SIGTERM)
	row.Figure("dockerd exited %s after SIGTERM, answered again %s later", down.Sub(sent).Round(100*time.Millisecond), up.Sub(down).Round(100*time.Millisecond))
	done := watch.WaitFor(t, "remediation_complete", slow, nil, engineFaultVerify/2)
	reason := done.Str("result", "error")
	row.Figure("the action under way → %s %s after the SIGTERM (%q)", done.Str("result", "status"), done.At.Sub(sent).Round(100*time.Millisecond), reason)
	if got := done.Str("result", "status"); got != "failed" && got != "success" {
		t.Errorf("the action under way ended %s, want failed (or verified): %s", got, done.Raw)
	}
	if done.Str("result", "status") == "failed" && !strings.Contains(reason, slow) {
		t.Errorf("the failure %q does not name the container", reason)
	}

	// The monitor reconnects by itself: a container started on the engine
	// once it is back crashes and is healed.
	next := "hsfault-next"
	nid := testenv.RunContainer(t, e.Client, next, &container.Config{
		Image: image, Cmd: []string{"--exit", "1", "--after", "2s", "--exit-once", "/tmp/crashed"},
	}, nil)
	nfirst := waitContainer(t, e, nid, "running", running)
	waitContainer(t, e, nid, "exited after its crash", exitedOnce)
	healed := watch.WaitFor(t, "remediation_complete", next, daemontest.StatusIs("success"), 2*time.Minute)
	// A running container keeps the finish time of its last exit.
	again := waitContainer(t, e, nid, "running again", startedAfter(nfirst))
	finished, _ := time.Parse(time.RFC3339Nano, again.FinishedAt)
	row.Figure("the next crash healed %s after it (engine back %s before it)", healed.At.Sub(finished).Round(100*time.Millisecond), finished.Sub(up).Round(100*time.Millisecond))
	watch.ExpectTrace(t, next, "health_alert Exited with code 1", "remediation_needed restart", "remediation_complete restart success")
	if !strings.Contains(d.Logs(), "docker events stream lost") {
		t.Errorf("hemostatd's log does not show the monitor losing its event stream: was the engine restarted?")
	}

	// Nothing left behind: every request has its result, the plugins are
	// the processes they were, no container is stuck between states, and
	// the slow container, stopped by the engine's shutdown, was not taken
	// for a crash.
	watch.Quiet(t, slow, 5*time.Second, time.Minute)
	d.Alive(t)
	for _, c := range []string{slow, next} {
		if n, m := watch.Count("remediation_needed", c), watch.Count("remediation_complete", c); n != m {
			t.Errorf("%s: %d requests, %d results:\n%s", c, n, m, watch.Dump(c))
		}
	}
	if n := watch.Count("remediation_needed", slow); n != 1 {
		t.Errorf("%s: %d requests, want 1 (a stop by the engine is not a crash):\n%s", slow, n, watch.Dump(slow))
	}
	after := pluginPIDs(t, d)
	replaced := 0
	for k, pid := range before {
		if after[k] != pid {
			replaced++
		}
	}
	stuck := stuckContainers(t, e)
	row.Figure("%d of %d plugin processes replaced; %d containers stuck between states", replaced, len(before), len(stuck))
	if replaced != 0 {
		t.Errorf("plugin processes replaced: %v → %v", before, after)
	}
	if len(stuck) > 0 {
		t.Errorf("containers stuck between states: %v", stuck)
	}
	row.Outcome("the action under way reported failed at once, with why (the engine's shutdown stopped the container it was verifying), not left to its timeout; the monitor reconnected by itself and the next crash was healed; the stopped container not taken for a crash or a failing health check; nothing left behind")
}

// engineFaultConfig runs every role on the private engine, with the
// responder's verify wait longer than the test needs.
func engineFaultConfig(redisAddr, httpAddr, plugins, engine string) string {
	return fmt.Sprintf(`
log_level  = "debug"
plugin_dir = %q
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
      verify_timeout = %q
      start_grace    = "0s"
    }
  }
}
alert { dedupe_window = "0s" }
`, plugins, redisAddr, httpAddr, engine, engine, engineFaultVerify.String())
}

// pluginPIDs is each running plugin's process, by role and name.
func pluginPIDs(t *testing.T, d *daemontest.Daemon) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, p := range d.Plugins(t) {
		if p.PID > 0 {
			out[p.Role+"/"+p.Name] = p.PID
		}
	}
	return out
}

// waitContainer waits until the container's state satisfies ok.
func waitContainer(t *testing.T, e *testenv.Engine, id, what string, ok func(*container.State) bool) *container.State {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		c, err := e.Client.ContainerInspect(t.Context(), id)
		if err == nil && ok(c.State) {
			return c.State
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not %s within a minute: %+v (%v)", id[:12], what, c.State, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// exitedOnce says whether the container has exited at least once. The
// engine keeps the time of its last exit while it runs again, so this
// holds even when hemostatd restarted it between two polls.
func exitedOnce(s *container.State) bool {
	finished, err := time.Parse(time.RFC3339Nano, s.FinishedAt)
	return err == nil && finished.Year() > 1
}

// startedAfter holds once the container runs again, started after it did
// in state prev.
func startedAfter(prev *container.State) func(*container.State) bool {
	before, _ := time.Parse(time.RFC3339Nano, prev.StartedAt)
	return func(s *container.State) bool {
		started, err := time.Parse(time.RFC3339Nano, s.StartedAt)
		return s.Running && err == nil && started.After(before)
	}
}

// stuckContainers lists the engine's containers caught between states:
// restarting, being created or removed, dead.
func stuckContainers(t *testing.T, e *testenv.Engine) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	list, err := e.Client.ContainerList(ctx, container.ListOptions{All: true})
	if err != nil {
		t.Fatalf("list the engine's containers: %v", err)
	}
	var out []string
	for _, c := range list {
		switch c.State {
		case container.StateRunning, container.StateExited:
		default:
			out = append(out, fmt.Sprintf("%v %s", c.Names, c.State))
		}
	}
	return out
}
