package dockere2e

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/daemontest"
	"github.com/hemostat/hemostat/sdk"
)

// testCPUHog: a container burning half a core stays above the CPU line for
// the sustain window; the analyzer sees a sustained breach and it is
// restarted. Realert (1m) keeps the restarted hog from a second round
// within the test.
func testCPUHog(t *testing.T) {
	e := newEngine(t)
	p := scenarioPrefix()
	s := newSettings()
	s.CPUPct, s.AnalyzerCPUPct = 20, 20
	// On an engine shared with the other scenarios the hog's share can
	// sag for a few seconds: the analyzer then calls it falling and waits,
	// and the next alert, realert later, has it restarted.
	s.Realert = "3s"
	d := startDaemon(t, p, s)
	name := p + "hog"
	id := e.run(t, name, []string{"--cpu", "1"}, nil, &container.HostConfig{Resources: container.Resources{NanoCPUs: 500_000_000}})
	before := e.startedAt(t, id)

	d.watch.WaitFor(t, completeType, name, daemontest.StatusIs("success"), 60*time.Second)
	e.expectRestarted(t, id, before)
	d.watch.Quiet(t, name, 3*time.Second, 20*time.Second)
	trace := d.watch.Trace(name)
	want := []string{"health_alert High CPU: N%", "remediation_needed restart", "remediation_complete restart success"}
	// Before the restart, only alerts judged "falling, wait" may come.
	for len(trace) > len(want) && trace[0] == want[0] && strings.HasPrefix(trace[1], "false_alarm") {
		trace = trace[2:]
	}
	if !slices.Equal(trace, want) {
		t.Fatalf("envelopes about %s:\n  %s\nwant (after any falling-CPU false alarms):\n  %s\nraw:\n%s",
			name, strings.Join(trace, "\n  "), strings.Join(want, "\n  "), d.watch.Dump(name))
	}
}

// testCPUSpike: a one-second burst in a quiet container crosses the line
// with sustain = 0s; the analyzer sees a single high sample in its window
// and calls it a false alarm. The burst is a second sickapp started by
// exec once the container has a few quiet samples, so the window has
// something to compare with.
func testCPUSpike(t *testing.T) {
	e := newEngine(t)
	p := scenarioPrefix()
	s := newSettings()
	s.CPUPct, s.AnalyzerCPUPct, s.Sustain, s.SpikeWindow = 30, 30, "0s", 3
	d := startDaemon(t, p, s)
	name := p + "spike"
	id := e.run(t, name, []string{"--idle"}, nil, nil)
	before := e.startedAt(t, id)
	waitHistory(t, d, name, 3)

	ctx := context.Background()
	exec, err := e.cli.ContainerExecCreate(ctx, id, container.ExecOptions{Cmd: []string{"/sickapp", "--spike", "1s", "--exit", "0", "--after", "1500ms"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.cli.ContainerExecStart(ctx, exec.ID, container.ExecStartOptions{Detach: true}); err != nil {
		t.Fatal(err)
	}
	fa := d.watch.WaitFor(t, protocol.TypeFalseAlarm, name, nil, 30*time.Second)
	time.Sleep(3 * time.Second) // the burst is over; room for a wrong second alert
	d.watch.Quiet(t, name, 2*time.Second, 20*time.Second)
	d.watch.ExpectTrace(t, name, "health_alert High CPU: N%", "false_alarm")
	if r := fa.Str("reason"); !strings.Contains(strings.ToLower(r), "spike") {
		t.Errorf("false alarm reason %q does not call it a spike", r)
	}
	e.expectUntouched(t, id, container.StateRunning, before)
}

// testMemoryGrowth: memory grows 4 MiB/s toward a 64 MiB limit; the
// monitor alerts at 30% after the sustain window, the analyzer sees it
// rising, and the container is treated long before the OOM killer would
// act (about 16 s after start): by default with a restart, or, with the
// analyzer's memory_action = "update_resources" and that action allowed,
// by raising its limit (resource_factor 1.5) without a restart.
func testMemoryGrowth(action string) func(t *testing.T) {
	return func(t *testing.T) {
		e := newEngine(t)
		p := scenarioPrefix()
		s := newSettings()
		s.MemoryPct, s.AnalyzerMemoryPct = 30, 30
		// This scenario judges the sustained memory line; TestLeakForecast
		// judges the forecast that would otherwise come first.
		s.MonitorExtra = "  leak_forecast = false"
		if action == sdk.ActionUpdateResources {
			s.AnalyzerExtra = `memory_action = "update_resources"`
			s.Actions = append(s.Actions, sdk.ActionUpdateResources)
		}
		d := startDaemon(t, p, s)
		name := p + "leak"
		const limit = 64 << 20
		id := e.run(t, name, []string{"--mem-mb-per-sec", "4"}, nil, &container.HostConfig{Resources: container.Resources{Memory: limit}})
		before := e.startedAt(t, id)

		d.watch.WaitFor(t, completeType, name, daemontest.StatusIs("success"), 60*time.Second)
		c := e.inspect(t, id)
		d.watch.Quiet(t, name, 3*time.Second, 20*time.Second)
		d.watch.ExpectTrace(t, name,
			"health_alert High memory: N%",
			"remediation_needed "+action,
			"remediation_complete "+action+" success",
		)
		switch action {
		case sdk.ActionRestart:
			e.expectRestarted(t, id, before)
			if c.HostConfig.Memory != limit {
				t.Errorf("memory limit after a restart = %d, want unchanged %d", c.HostConfig.Memory, limit)
			}
		case sdk.ActionUpdateResources:
			if want := int64(limit * 3 / 2); c.HostConfig.Memory != want {
				t.Errorf("memory limit = %d, want %d (raised by resource_factor 1.5)", c.HostConfig.Memory, want)
			}
			e.expectUntouched(t, id, container.StateRunning, before)
		}
	}
}

// testSteadyMemory: a container holding steady near its memory limit is
// one spike from an OOM kill. A restart would not help, and it is not a
// false alarm either: the analyzer publishes a capacity warning (an
// escalation with severity warning) and nothing touches the container.
func testSteadyMemory(t *testing.T) {
	e := newEngine(t)
	p := scenarioPrefix()
	s := newSettings()
	// The grace lets the 86 MiB allocation finish before the monitor
	// judges, so the analyzer's window holds the steady load, not the ramp.
	s.MemoryPct, s.AnalyzerMemoryPct, s.Grace = 80, 80, "8s"
	d := startDaemon(t, p, s)
	name := p + "steady"
	const limit = 100 << 20
	id := e.run(t, name, []string{"--alloc-mb", "86"}, nil, &container.HostConfig{Resources: container.Resources{Memory: limit}})
	before := e.startedAt(t, id)

	esc := d.watch.WaitFor(t, escalateType, name, nil, 60*time.Second)
	if got := esc.Str("severity"); got != sdk.SeverityWarning {
		t.Errorf("escalation severity = %q, want %q: %s", got, sdk.SeverityWarning, esc.Raw)
	}
	if r := esc.Str("reason"); !strings.Contains(r, "capacity warning") || !strings.Contains(r, "steady load") {
		t.Errorf("escalation reason %q does not call it a capacity warning of a steady load", r)
	}
	d.watch.Quiet(t, name, 3*time.Second, 20*time.Second)
	d.watch.ExpectTrace(t, name, "health_alert High memory: N%", "escalation analyzer ")
	e.expectUntouched(t, id, container.StateRunning, before)
}

// waitHistory waits until the container's sample history holds n samples.
func waitHistory(t testing.TB, d *daemon, name string, n int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for d.rdb.LLen(context.Background(), protocol.HistoryKey(name)).Val() < n {
		if time.Now().After(deadline) {
			t.Fatalf("hemostatd did not sample %s %d times", name, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// testSteadyMemoryRaised: the same steady load near the limit as
// testSteadyMemory, with update_resources among the responder's actions
// (and nothing else changed: the analyzer's memory_action stays restart).
// The capacity warning becomes a raised limit — resource_factor 1.5, no
// restart — and never a false alarm.
func testSteadyMemoryRaised(t *testing.T) {
	e := newEngine(t)
	p := scenarioPrefix()
	s := newSettings()
	s.MemoryPct, s.AnalyzerMemoryPct, s.Grace = 80, 80, "8s"
	s.Actions = append(s.Actions, sdk.ActionUpdateResources)
	d := startDaemon(t, p, s)
	name := p + "steadyup"
	const limit = 100 << 20
	id := e.run(t, name, []string{"--alloc-mb", "86"}, nil, &container.HostConfig{Resources: container.Resources{Memory: limit}})
	before := e.startedAt(t, id)

	d.watch.WaitFor(t, completeType, name, daemontest.StatusIs("success"), 60*time.Second)
	d.watch.Quiet(t, name, 3*time.Second, 20*time.Second)
	d.watch.ExpectTrace(t, name,
		"health_alert High memory: N%",
		"remediation_needed update_resources",
		"remediation_complete update_resources success",
	)
	c := e.inspect(t, id)
	if want := int64(limit * 3 / 2); c.HostConfig.Memory != want {
		t.Errorf("memory limit = %d, want %d (raised by resource_factor 1.5)", c.HostConfig.Memory, want)
	}
	e.expectUntouched(t, id, container.StateRunning, before)
}
