package dockere2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/daemontest"
)

// eventsPerOp is how many engine events one benchmark operation times;
// percentiles are taken over all of them.
const eventsPerOp = 20

// detectionCase is one kind of engine event hemostatd must turn into a
// health_alert.
type detectionCase struct {
	name   string
	args   []string
	cfg    *container.Config
	host   *container.HostConfig
	action string // the engine event that starts the clock
	issue  string // the first issue of the health_alert that stops it
}

var detectionCases = []detectionCase{
	{
		name: "die", args: []string{"--exit", "3", "--after", "50ms", "--log", "starting", "--last-words", "panic: boom"},
		action: string(events.ActionDie), issue: protocol.IssueExited(3),
	},
	{
		// Memory grows for a few hundred milliseconds before the kill: an
		// allocation at once can be killed before the engine watches the
		// new task's OOM notifications (cgroup v1), and then no oom event
		// comes at all.
		name: "oom", args: []string{"--mem-mb-per-sec", "100"},
		host:   &container.HostConfig{Resources: container.Resources{Memory: 32 << 20, MemorySwap: 32 << 20}},
		action: string(events.ActionOOM), issue: protocol.IssueOOMKilled,
	},
	{
		name: "unhealthy", args: []string{"--unhealthy-after", "200ms"},
		cfg: &container.Config{Healthcheck: &container.HealthConfig{
			Test: []string{"CMD", "/sickapp", "health"}, Interval: 100 * time.Millisecond, Timeout: time.Second, Retries: 1,
		}},
		action: "health_status: unhealthy", issue: protocol.IssueUnhealthy,
	},
}

// BenchmarkDetectionLatency times, for a die, an OOM kill and a failing
// healthcheck, how long after the engine's own event time (timeNano) the
// health_alert reaches a Redis subscriber. The baseline is the same event's
// arrival on the benchmark's own engine event subscriber: what any
// event-driven watcher pays before doing anything. hemostatd runs its
// monitor alone, so nothing but detection is timed.
func BenchmarkDetectionLatency(b *testing.B) {
	for _, c := range detectionCases {
		b.Run(c.name, func(b *testing.B) { benchDetection(b, c) })
	}
}

func benchDetection(b *testing.B, c detectionCase) {
	e := newEngine(b)
	p := scenarioPrefix()
	s := newSettings()
	s.NoAnalyzer, s.NoResponder, s.Realert = true, true, "1ms"
	d := startDaemon(b, p, s)
	name := p + c.name
	id := e.run(b, name, c.args, c.cfg, c.host)
	settle(b, e, id)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Since makes the engine replay from now: the subscription is set up
	// in the background, and the first event may come before it is.
	since := time.Now()
	msgs, errs := e.cli.Events(ctx, events.ListOptions{Since: fmt.Sprintf("%d.%09d", since.Unix(), since.Nanosecond()), Filters: filters.NewArgs(
		filters.Arg("type", string(events.ContainerEventType)), filters.Arg("container", id),
	)})
	var full, base []time.Duration
	b.ResetTimer()
	for b.Loop() {
		for range eventsPerOp {
			mark := d.watch.Len()
			if err := e.cli.ContainerStart(ctx, id, container.StartOptions{}); err != nil {
				b.Fatal(err)
			}
			at, arrived := awaitEngineEvent(b, msgs, errs, c.action)
			alert := d.watch.AwaitAfter(b, mark, alertType, name, func(m daemontest.Message) bool {
				is := m.Issues()
				return len(is) > 0 && is[0] == c.issue
			}, 30*time.Second)
			full = append(full, alert.At.Sub(at))
			base = append(base, arrived.Sub(at))
			b.StopTimer()
			settle(b, e, id)
			b.StartTimer()
		}
	}
	b.StopTimer()
	report(b, full, base)
}

// awaitEngineEvent waits for the engine event action and returns its
// engine time and its arrival here.
func awaitEngineEvent(b *testing.B, msgs <-chan events.Message, errs <-chan error, action string) (time.Time, time.Time) {
	b.Helper()
	timeout := time.After(30 * time.Second)
	var seen []string
	for {
		select {
		case m := <-msgs:
			if string(m.Action) == action {
				return time.Unix(0, m.TimeNano), time.Now()
			}
			seen = append(seen, string(m.Action))
		case err := <-errs:
			b.Fatalf("engine events: %v", err)
		case <-timeout:
			b.Fatalf("no %s event within 30s; saw %q", action, seen)
		}
	}
}

// settle brings the container to a stop (SIGKILL when it still runs: a
// requested stop, which raises no alert) and lets the alerts of its exit
// arrive before the next start.
func settle(b *testing.B, e engine, id string) {
	b.Helper()
	ctx := context.Background()
	if e.inspect(b, id).State.Running {
		if err := e.cli.ContainerKill(ctx, id, "SIGKILL"); err != nil && !strings.Contains(err.Error(), "is not running") {
			b.Fatal(err)
		}
	}
	e.waitState(b, id, "stopped", func(s *container.State) bool { return !s.Running && !s.Restarting }, 30*time.Second)
	time.Sleep(300 * time.Millisecond)
}

func report(b *testing.B, full, base []time.Duration) {
	p50, p99 := percentile(full, 50), percentile(full, 99)
	b50, b99 := percentile(base, 50), percentile(base, 99)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(p50), "p50-ms")
	b.ReportMetric(ms(p99), "p99-ms")
	b.ReportMetric(ms(b50), "baseline-p50-ms")
	b.ReportMetric(ms(b99), "baseline-p99-ms")
	if b50 > 0 && b99 > 0 {
		b.ReportMetric(float64(p50)/float64(b50), "p50-x-baseline")
		b.ReportMetric(float64(p99)/float64(b99), "p99-x-baseline")
	}
	b.ReportMetric(float64(len(full)), "events")
}

func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}
