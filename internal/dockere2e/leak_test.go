package dockere2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/hemostat/hemostat/internal/daemontest"
	"github.com/hemostat/hemostat/sdk"
)

// leakLimit is the memory limit of the leak scenario's containers.
const leakLimit = 64 << 20

// TestLeakForecast: three containers leak at 4, 2 and 1 MiB/s toward a
// 64 MiB limit, far faster than the sustain window allows for; the
// monitor's forecast alerts each at once, below memory_pct, and each is
// restarted before the kernel's OOM kill — no oom event and no exit 137
// before the restart. The responder's start_grace is its default 60 s,
// longer than any of them has lived: a forecast OOM kill is not warm-up,
// and must not be skipped as one. A fourth container, flat near its limit,
// is never alerted as a leak. It runs alone (not in TestHealing): it is
// about timing, and its figures are the README's.
func TestLeakForecast(t *testing.T) {
	e := newEngine(t)
	p := scenarioPrefix()
	s := newSettings()
	// A sustain the leaks cannot outlast: only the forecast can catch them.
	s.Sustain = "30s"
	s.StartGrace = "60s"
	s.MonitorExtra = `  leak_forecast = true
  leak_horizon  = "15s"
  leak_samples  = 6`
	d := startDaemon(t, p, s)
	begin := time.Now()

	flat := p + "flat"
	flatID := e.run(t, flat, []string{"--alloc-mb", "56"}, nil, &container.HostConfig{Resources: container.Resources{Memory: leakLimit}})
	flatStarted := e.startedAt(t, flatID)

	type leak struct {
		mbPerSec, allocMB int
	}
	var (
		mu      sync.Mutex
		figures []string
	)
	t.Run("leaks", func(t *testing.T) {
		for _, l := range []leak{{4, 0}, {2, 0}, {1, 20}} {
			name := fmt.Sprintf("%sleak%d", p, l.mbPerSec)
			args := []string{"--mem-mb-per-sec", fmt.Sprint(l.mbPerSec)}
			if l.allocMB > 0 {
				args = append(args, "--alloc-mb", fmt.Sprint(l.allocMB))
			}
			id := e.run(t, name, args, nil, &container.HostConfig{Resources: container.Resources{Memory: leakLimit}})
			t.Run(fmt.Sprintf("%d MiB per s", l.mbPerSec), func(t *testing.T) {
				t.Parallel()
				f := checkLeakCaught(t, e, d, name, id, begin)
				mu.Lock()
				figures = append(figures, fmt.Sprintf("%d MiB/s: %s", l.mbPerSec, f))
				mu.Unlock()
			})
		}
	})
	// The flat container has been watched all along, for as long as the
	// slowest leak took; a little more gives a wrong alert room to come.
	waitHistory(t, d, flat, 20)
	for _, m := range d.watch.Of(flat) {
		for _, is := range m.Issues() {
			if _, ok := sdk.ParseMemoryForecast(is); ok {
				t.Errorf("the flat container was alerted as a leak: %s", m.Raw)
			}
		}
	}
	e.expectUntouched(t, flatID, container.StateRunning, flatStarted)
	for _, f := range figures {
		t.Log(f)
	}
}

// checkLeakCaught waits for the container's forecast and its restart, and
// checks, from the engine's own events, that the kernel did not kill it
// first. It returns the figures: the forecast's lead time (alert to the
// projected OOM kill) and the margin left when the old process ended.
func checkLeakCaught(t *testing.T, e engine, d *daemon, name, id string, begin time.Time) string {
	t.Helper()
	before := e.startedAt(t, id)
	alert := d.watch.WaitFor(t, "health_alert", name, nil, 120*time.Second)
	var fc sdk.MemoryForecast
	var ok bool
	for _, is := range alert.Issues() {
		if fc, ok = sdk.ParseMemoryForecast(is); ok {
			break
		}
	}
	if !ok {
		t.Errorf("%s: first alert is not a forecast: %s\n%s", name, alert.Raw, d.watch.Dump(name))
		return "no forecast"
	}
	done := d.watch.WaitFor(t, completeType, name, daemontest.StatusIs("success"), 60*time.Second)
	e.expectRestarted(t, id, before)
	if r := done.Str("result", "action"); r != "" && r != sdk.ActionRestart {
		t.Errorf("%s: action %q, want restart", name, r)
	}

	// The engine's events from the scenario's start to the restart: the
	// first die must be the restart's stop, not the OOM killer's.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	msgs, errs := e.cli.Events(ctx, events.ListOptions{
		Since:   fmt.Sprint(begin.Add(-time.Second).Unix()),
		Until:   fmt.Sprint(time.Now().Unix() + 1),
		Filters: filters.NewArgs(filters.Arg("container", id), filters.Arg("event", "oom"), filters.Arg("event", "die")),
	})
	var firstDie time.Time
	var trail []string
read:
	for {
		select {
		case m, open := <-msgs:
			if !open {
				break read
			}
			at := time.Unix(0, m.TimeNano)
			trail = append(trail, fmt.Sprintf("%s %s exit %s", at.Format("15:04:05.000"), m.Action, m.Actor.Attributes["exitCode"]))
			if m.Action == "oom" && firstDie.IsZero() {
				t.Errorf("%s: the kernel's OOM killer came before the restart", name)
			}
			if m.Action == "die" && firstDie.IsZero() {
				firstDie = at
				if code := m.Actor.Attributes["exitCode"]; code == "137" {
					t.Errorf("%s: first exit was 137, a kill, not the restart's stop", name)
				}
			}
		case err := <-errs:
			if err != nil && !strings.Contains(err.Error(), "EOF") {
				t.Fatalf("%s: engine events: %v", name, err)
			}
			break read
		}
	}
	if firstDie.IsZero() {
		t.Errorf("%s: no die event for the restart; events: %q", name, trail)
		return "no die event"
	}
	projected := alert.At.Add(fc.In)
	return fmt.Sprintf("forecast %q; lead time %s; alert → old process stopped %s; margin to the projected OOM kill %s",
		alert.Issues()[0], fc.In.Round(time.Second), firstDie.Sub(alert.At).Round(10*time.Millisecond), projected.Sub(firstDie).Round(10*time.Millisecond))
}
