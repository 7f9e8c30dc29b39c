package dockere2e

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/daemontest"
)

// Short names for the channels a scenario waits on.
const (
	alertType    = protocol.TypeHealthAlert
	neededType   = protocol.TypeRemediationNeeded
	completeType = protocol.TypeRemediationComplete
	escalateType = protocol.TypeEscalation
)

// healed is the trace of a crash healed by one restart.
var healed = []string{
	"health_alert Exited with code 3",
	"remediation_needed restart",
	"remediation_complete restart success",
}

// testCrash: a container exits with code 3 and no restart policy; hemostatd
// restarts it once. The restarted container will crash again 4 s later, so
// the trace and the state are checked the moment the success arrives.
func testCrash(t *testing.T) {
	e := newEngine(t)
	p := scenarioPrefix()
	d := startDaemon(t, p, newSettings())
	name := p + "crash"
	id := e.run(t, name, []string{"--exit", "3", "--after", "2s"}, nil, nil)
	before := e.startedAt(t, id)

	done := d.watch.WaitFor(t, completeType, name, daemontest.StatusIs("success"), 30*time.Second)
	e.expectRestarted(t, id, before)
	d.watch.ExpectTrace(t, name, healed...)
	if got := done.Str("result", "state_after"); got != "running" {
		t.Errorf("state_after = %q, want running", got)
	}
	need := d.watch.WaitFor(t, neededType, name, nil, 0)
	if !strings.Contains(need.Str("reason"), "code 3") {
		t.Errorf("remediation_needed reason %q does not name the exit code", need.Str("reason"))
	}
}

// testCrashLoop: a container that exits 1 a second after every start is
// restarted under the default policy scaled down fivefold — backoff 2 s
// doubling (the default's 10 s), breaker 5 actions per hour — with no
// restart-loop setting anywhere else. The actions are allowed 2, 4, 8 and
// 16 s after the one before, deferred in between with a retry_at that says
// so, as the README and the gate's golden transcript say (0, 10, 20, 40,
// 80 s at full scale); then the breaker escalates once instead of acting
// again.
func testCrashLoop(t *testing.T) {
	const maxActions = 5
	e := newEngine(t)
	p := scenarioPrefix()
	s := newSettings()
	s.BackoffInitial, s.BackoffMax, s.BreakerMax = "2s", "1m", maxActions
	d := startDaemon(t, p, s)
	name := p + "loop"
	id := e.run(t, name, []string{"--exit", "1", "--after", "1s"}, nil, nil)

	esc := d.watch.WaitFor(t, escalateType, name, nil, 90*time.Second)
	if esc.Str("source") != protocol.EscalatedByBreaker || !strings.Contains(esc.Str("reason"), "circuit breaker") {
		t.Errorf("escalation = %s, want source %s and a circuit breaker reason", esc.Raw, protocol.EscalatedByBreaker)
	}
	// The container stays down: nothing restarts it any more.
	d.watch.Quiet(t, name, 4*time.Second, 30*time.Second)
	c := e.inspect(t, id)
	if c.State.Status != container.StateExited {
		t.Fatalf("after the escalation %s is %s, want exited", name, c.State.Status)
	}

	var successes []daemontest.Message
	var escalations int
	for _, m := range d.watch.Of(name) {
		switch m.Type() {
		case escalateType:
			escalations++
		case completeType:
			switch status := m.Str("result", "status"); status {
			case "success":
				successes = append(successes, m)
			case "deferred":
				if m.Str("result", "retry_at") == "" || !strings.Contains(m.Str("result", "reason"), "backoff") {
					t.Errorf("deferred without retry_at or backoff reason: %s", m.Raw)
				}
			case "rejected":
				if !strings.Contains(m.Str("result", "reason"), "circuit breaker") {
					t.Errorf("rejected for another reason than the breaker: %s", m.Raw)
				}
			default:
				t.Errorf("unexpected status %q: %s", status, m.Raw)
			}
		}
	}
	if len(successes) != maxActions || escalations != 1 {
		t.Fatalf("%d restarts and %d escalations, want %d and exactly 1:\n%s", len(successes), escalations, maxActions, d.watch.Dump(name))
	}
	last := d.watch.Trace(name)
	if tail := last[len(last)-2:]; tail[0] != "remediation_complete restart rejected" || tail[1] != "escalation circuit_breaker restart" {
		t.Errorf("trace ends with %q, want the breaker's rejection then the escalation", tail)
	}
	if deferred := strings.Count(strings.Join(last, "\n"), "restart deferred"); deferred == 0 {
		t.Errorf("no deferred action between the restarts:\n%s", d.watch.Dump(name))
	}
	checkBackoffTimes(t, d, name, successes, 2*time.Second)
}

// checkBackoffTimes checks that the n-th restart came no sooner than
// initial·2^(n-1) after the one before, and that every deferral in between
// named that moment as its retry_at. A restart's own duration (the
// container is verified running) is added to the gaps on a loaded machine,
// so the gaps are bounded below only; the retry_at pins the policy.
func checkBackoffTimes(t *testing.T, d *daemon, name string, successes []daemontest.Message, initial time.Duration) {
	t.Helper()
	const slack = 250 * time.Millisecond // from the gate's record to the envelope's receipt
	var gaps []time.Duration
	deferrals := 0
	for i := 1; i < len(successes); i++ {
		prev, next := successes[i-1].At, successes[i].At
		delay := initial << (i - 1)
		gaps = append(gaps, next.Sub(prev))
		if next.Sub(prev) < delay-slack {
			t.Errorf("restart %d came %v after the one before, want at least the backoff's %v", i+1, next.Sub(prev), delay)
		}
		for _, m := range d.watch.Of(name) {
			if m.Type() != completeType || m.Str("result", "status") != "deferred" || !m.At.After(prev) || !m.At.Before(next) {
				continue
			}
			deferrals++
			at, err := protocol.ParseTimestamp(m.Str("result", "retry_at"))
			if err != nil {
				t.Fatalf("retry_at: %v", err)
			}
			if got := at.Sub(prev); got < delay-slack || got > delay+slack {
				t.Errorf("deferral before restart %d: retry_at %v after the restart before it, want the backoff's %v", i+1, got, delay)
			}
		}
	}
	t.Logf("gaps between restarts: %v (%d deferrals)", gaps, deferrals)
	if deferrals == 0 {
		t.Errorf("no restart was deferred by the backoff")
	}
}

// testUnhealthy: a healthcheck that starts failing after 3 s makes Docker
// report unhealthy; hemostatd restarts the container and the restart waits
// for it to be healthy again.
func testUnhealthy(t *testing.T) {
	e := newEngine(t)
	p := scenarioPrefix()
	d := startDaemon(t, p, newSettings())
	name := p + "sick"
	id := e.run(t, name, []string{"--unhealthy-after", "3s"}, &container.Config{Healthcheck: &container.HealthConfig{
		Test: []string{"CMD", "/sickapp", "health"}, Interval: 300 * time.Millisecond, Timeout: 2 * time.Second, Retries: 2,
	}}, nil)
	before := e.startedAt(t, id)

	d.watch.WaitFor(t, completeType, name, daemontest.StatusIs("success"), 40*time.Second)
	c := e.inspect(t, id)
	e.expectRestarted(t, id, before)
	if c.State.Health == nil || c.State.Health.Status != container.Healthy {
		t.Errorf("health after the restart = %+v, want healthy", c.State.Health)
	}
	d.watch.ExpectTrace(t, name,
		"health_alert Health check failing",
		"remediation_needed restart",
		"remediation_complete restart success",
	)
}

// testRelapse: a container restarted for a failing healthcheck comes back
// healthy and fails again 3 s later. With realert = 5m the relapse is
// still alerted and acted on at once: the recovery ended the first
// incident, and the responder's backoff (1 s here) alone paces the
// second restart.
func testRelapse(t *testing.T) {
	e := newEngine(t)
	p := scenarioPrefix()
	s := newSettings()
	s.Realert = "5m"
	d := startDaemon(t, p, s)
	name := p + "relapse"
	id := e.run(t, name, []string{"--unhealthy-after", "3s"}, &container.Config{Healthcheck: &container.HealthConfig{
		Test: []string{"CMD", "/sickapp", "health"}, Interval: 300 * time.Millisecond, Timeout: 2 * time.Second, Retries: 2,
	}}, nil)

	done := d.watch.WaitN(t, completeType, name, 2, daemontest.StatusIs("success"), 60*time.Second)
	alerts := d.watch.WaitN(t, alertType, name, 2, nil, 0)
	if gap := done[1].At.Sub(alerts[1].At); gap > 10*time.Second {
		t.Errorf("the relapse was acted on %v after its alert, want within the backoff", gap)
	}
	e.waitState(t, id, "running", running, 30*time.Second)
	// The container keeps relapsing every 3 s, so only the first two
	// rounds are compared.
	want := []string{
		"health_alert Health check failing",
		"remediation_needed restart",
		"remediation_complete restart success",
		"health_alert Health check failing",
		"remediation_needed restart",
		"remediation_complete restart success",
	}
	if got := d.watch.Trace(name); len(got) < len(want) || strings.Join(got[:len(want)], "\n") != strings.Join(want, "\n") {
		t.Fatalf("envelopes about %s:\n%s\nwant first:\n  %s", name, d.watch.Dump(name), strings.Join(want, "\n  "))
	}
}

// testCooldown: with a flat one-hour cooldown the second crash is deferred,
// not acted on, and the container stays down.
func testCooldown(t *testing.T) {
	e := newEngine(t)
	p := scenarioPrefix()
	s := newSettings()
	s.Cooldown = "1h"
	d := startDaemon(t, p, s)
	name := p + "cool"
	id := e.run(t, name, []string{"--exit", "3", "--after", "2s"}, nil, nil)

	d.watch.WaitFor(t, completeType, name, daemontest.StatusIs("success"), 30*time.Second)
	restarted := e.startedAt(t, id)
	deferred := d.watch.WaitFor(t, completeType, name, daemontest.StatusIs("deferred"), 30*time.Second)
	d.watch.Quiet(t, name, 3*time.Second, 20*time.Second)
	d.watch.ExpectTrace(t, name, append(healed,
		"health_alert Exited with code 3",
		"remediation_needed restart",
		"remediation_complete restart deferred",
	)...)
	if r := deferred.Str("result", "reason"); !strings.Contains(r, "cooldown") || deferred.Str("result", "retry_at") == "" {
		t.Errorf("deferred result %s, want a cooldown reason and retry_at", deferred.Raw)
	}
	e.expectUntouched(t, id, container.StateExited, restarted)
}

// testManualStop: a person stops a running container (its stop signal is
// SIGKILL, so it exits 137 like a crash would); hemostatd must not bring it
// back.
func testManualStop(t *testing.T) {
	e := newEngine(t)
	p := scenarioPrefix()
	d := startDaemon(t, p, newSettings())
	name := p + "stop"
	id := e.run(t, name, []string{"--idle"}, &container.Config{StopSignal: "SIGKILL"}, nil)
	before := e.startedAt(t, id)
	waitWatched(t, d, name)

	timeout := 5
	if err := e.cli.ContainerStop(context.Background(), id, container.StopOptions{Timeout: &timeout}); err != nil {
		t.Fatal(err)
	}
	c := e.waitState(t, id, "exited", exited, 20*time.Second)
	if c.State.ExitCode != 137 {
		t.Fatalf("exit code after docker stop = %d, want 137 (SIGKILL)", c.State.ExitCode)
	}
	time.Sleep(4 * time.Second) // several sampling intervals: room for a wrong alert
	d.watch.Quiet(t, name, 2*time.Second, 20*time.Second)
	d.watch.ExpectTrace(t, name)
	e.expectUntouched(t, id, container.StateExited, before)
}

// testRemovedMidAction: the container is removed while the responder waits
// for it to become healthy after the restart. The action fails with a
// clear error, and the daemon goes on healing another container.
func testRemovedMidAction(t *testing.T) {
	e := newEngine(t)
	p := scenarioPrefix()
	d := startDaemon(t, p, newSettings())
	victim := p + "gone"
	// The first health check runs only after 30 s: the restart's wait for
	// healthy is still going on when the container is removed.
	id := e.run(t, victim, []string{"--exit", "3", "--after", "2s"}, &container.Config{Healthcheck: &container.HealthConfig{
		Test: []string{"CMD", "/sickapp", "health"}, Interval: 30 * time.Second, Retries: 1,
	}}, nil)
	before := e.startedAt(t, id)

	d.watch.WaitFor(t, neededType, victim, nil, 30*time.Second)
	e.waitState(t, id, "started again", func(s *container.State) bool {
		return s.Running && s.StartedAt != before
	}, 10*time.Second)
	if err := e.cli.ContainerRemove(context.Background(), id, container.RemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	failed := d.watch.WaitFor(t, completeType, victim, nil, 30*time.Second)
	if failed.Str("result", "status") != "failed" || !strings.Contains(failed.Str("result", "error"), "no longer exists") {
		t.Errorf("remediation_complete = %s, want failed: no longer exists", failed.Raw)
	}
	d.watch.Quiet(t, victim, 2*time.Second, 20*time.Second)
	d.watch.ExpectTrace(t, victim,
		"health_alert Exited with code 3",
		"remediation_needed restart",
		"remediation_complete restart failed",
	)
	expectForgotten(t, d, victim)

	// The daemon is unharmed: another crash is still healed.
	d.Alive(t)
	other := p + "next"
	otherID := e.run(t, other, []string{"--exit", "3", "--after", "2s"}, nil, nil)
	otherBefore := e.startedAt(t, otherID)
	d.watch.WaitFor(t, completeType, other, daemontest.StatusIs("success"), 30*time.Second)
	e.expectRestarted(t, otherID, otherBefore)
	d.watch.ExpectTrace(t, other, healed...)
}

// waitWatched waits until the monitor has sampled the container (its stats
// key exists), so that what the test does next is seen.
func waitWatched(t testing.TB, d *daemon, name string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for d.rdb.Exists(context.Background(), protocol.StatsKey(name)).Val() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("hemostatd never sampled %s", name)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// expectForgotten checks that nothing shows a removed container as if it
// were still there: its stats key, which hemostatd status and the
// protocol's dashboards list containers by, is gone, and so is its row in
// the dashboard's list — news of it that came after the removal, such as
// its failed action, included.
func expectForgotten(t *testing.T, d *daemon, name string) {
	t.Helper()
	if d.rdb.Exists(context.Background(), protocol.StatsKey(name)).Val() != 0 {
		t.Errorf("the stats key of %s outlived its removal", name)
	}
	resp, err := http.Get("http://" + d.HTTPAddr() + "/api/v1/containers")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Containers []struct {
			Name   string `json:"name"`
			Status string `json:"status"`
		} `json:"containers"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatalf("decode /api/v1/containers: %v", err)
	}
	for _, c := range list.Containers {
		if c.Name == name {
			t.Errorf("the dashboard lists %s (status %q) after its removal", name, c.Status)
		}
	}
}
