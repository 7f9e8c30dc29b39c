package dockere2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"
	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/daemontest"
)

// reactionStopTimeout is the stop timeout, in seconds, of both healers:
// the scenario config's stop_timeout, so that the baseline's restart is the
// same engine call as hemostatd's.
const reactionStopTimeout = 2

// reactionPatience is how long the benchmark waits for anything the engine
// or hemostatd does between samples: a restarted container reported
// healthy, an event, an alert, a verified action. A loaded machine has
// taken over 30 s to report a restarted container healthy; that is noise
// in the figures, not a failure of what is measured.
const reactionPatience = 5 * time.Minute

// reactionCase is one kind of trouble and the engine call that answers it.
type reactionCase struct {
	name    string
	trigger string // the engine event that starts the clock
	begins  string // the engine event that stops it: the answer under way
	issue   string // the first issue of hemostatd's alert of trigger
	// heal is the minimal healer's answer to trigger: one engine call.
	heal func(ctx context.Context, cli *client.Client, id string) error
	// run starts a container of this case named name; cause makes its
	// trouble happen; recover, when not nil, brings a healed container
	// back to the state before cause.
	run func(b *testing.B, e engine, name string) (id string, cause, recover func())
}

var reactionCases = []reactionCase{
	{
		// Restart begins when the engine signals the container: its kill
		// event, the first thing a restart does. The healthcheck reads a
		// marker file on a bind mount: the benchmark removes it to make
		// the container unhealthy, and the restarted program writes it
		// again, so a healed container stays healthy until the next
		// sample. The check's own timeout is long: on a loaded machine a
		// check that merely took a second would report a healthy
		// container unhealthy, out of turn.
		name: "unhealthy", trigger: "health_status: unhealthy", begins: string(events.ActionKill), issue: protocol.IssueUnhealthy,
		heal: func(ctx context.Context, cli *client.Client, id string) error {
			timeout := reactionStopTimeout
			return cli.ContainerRestart(ctx, id, container.StopOptions{Timeout: &timeout})
		},
		run: func(b *testing.B, e engine, name string) (string, func(), func()) {
			dir := b.TempDir()
			id := e.run(b, name, []string{"--health-file", "/h/healthy"}, &container.Config{Healthcheck: &container.HealthConfig{
				Test:     []string{"CMD", "/sickapp", "health", "--health-file", "/h/healthy"},
				Interval: 100 * time.Millisecond, Timeout: 30 * time.Second, Retries: 1,
			}}, &container.HostConfig{Binds: []string{dir + ":/h"}})
			e.waitState(b, id, "healthy", healthy, reactionPatience)
			cause := func() {
				if err := os.Remove(filepath.Join(dir, "healthy")); err != nil {
					b.Fatal(err)
				}
			}
			// Healthy before each sample: a container still unhealthy
			// would send no new unhealthy event to time.
			return id, cause, func() { e.waitState(b, id, "healthy", healthy, reactionPatience) }
		},
	},
	{
		// Running again is the engine's start event, sent once the
		// container's process runs. Each sample starts the container,
		// which exits 3 a little later; the healed one is stopped again
		// (a requested kill, which neither healer answers) before it
		// would exit a second time.
		name: "crash", trigger: string(events.ActionDie), begins: string(events.ActionStart), issue: protocol.IssueExited(3),
		heal: func(ctx context.Context, cli *client.Client, id string) error {
			return cli.ContainerStart(ctx, id, container.StartOptions{})
		},
		run: func(b *testing.B, e engine, name string) (string, func(), func()) {
			id := e.run(b, name, []string{"--exit", "3", "--after", "3s"}, nil, nil)
			settle(b, e, id)
			cause := func() {
				if err := e.cli.ContainerStart(context.Background(), id, container.StartOptions{}); err != nil {
					b.Fatal(err)
				}
			}
			return id, cause, func() { settle(b, e, id) }
		},
	},
}

func healthy(s *container.State) bool {
	return s.Running && s.Health != nil && s.Health.Status == container.Healthy
}

// BenchmarkReaction times, on the engine's own clock, from the event that
// calls for an action (a failing healthcheck, a crash) to the engine event
// that shows the action under way (the restart's kill, the start). The
// baseline is a minimal event-driven healer in the same run: a goroutine
// with its own engine event subscription that makes the one engine call
// (ContainerRestart, ContainerStart) the moment the event arrives, on a
// twin container hemostatd does not watch. Samples alternate between the
// two, so that a busy engine slows both.
func BenchmarkReaction(b *testing.B) {
	for _, c := range reactionCases {
		b.Run(c.name, func(b *testing.B) { benchReaction(b, c) })
	}
}

func benchReaction(b *testing.B, c reactionCase) {
	e := newEngine(b)
	p := scenarioPrefix()
	s := newSettings()
	// Every sample is a fresh incident: no suppression, backoff or
	// breaker stands between two of them. The sampler's interval is long,
	// so that only the engine's events raise alerts.
	s.Realert, s.BackoffInitial, s.BackoffMax, s.BreakerMax = "1ms", "1ms", "1ms", 100000
	s.Interval = "1m"
	profDir := reactionProfileDir(b)
	s.Pprof = profDir != ""
	// A verification cut short by a slow engine would be retried, an
	// action out of turn in the next sample.
	s.VerifyTimeout = reactionPatience.String()
	d := startDaemon(b, p, s)
	ours := p + c.name
	// The twin's name does not start with the prefix: out of hemostatd's
	// scope.
	twin := "hsbase" + p[len("hse2e"):] + c.name
	ourID, ourCause, ourRecover := c.run(b, e, ours)
	twinID, twinCause, twinRecover := c.run(b, e, twin)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	healer := startHealer(ctx, b, e.cli, twinID, c)
	msgs, errs := e.cli.Events(ctx, events.ListOptions{Filters: filters.NewArgs(
		filters.Arg("type", string(events.ContainerEventType)),
		filters.Arg("container", ourID), filters.Arg("container", twinID),
	)})

	// Where the time went, hop by hop, on this machine's clock, which is
	// the engine's: for hemostatd the alert's and the decision's arrival
	// on Redis, and from the decision to the engine's event that shows
	// the action under way (the responder, its plugin, and the engine's
	// own way from the call to that event); for the baseline the moment
	// it made its call, and from the call to that event (the engine's
	// part alone, which hemostatd pays too).
	var full, base, alerted, decided, acted, baseCalled, baseEngine []time.Duration
	sample := func(id string) time.Duration {
		mark := d.watch.Len()
		cause, recover := ourCause, ourRecover
		if id == twinID {
			cause, recover = twinCause, twinRecover
			healer.arm()
		}
		// The container is as the last sample left it, or back to it:
		// a check that failed out of turn meanwhile has passed again.
		recover()
		drainEvents(msgs)
		cause()
		at := awaitContainerEvent(b, msgs, errs, id, c.trigger, time.Time{})
		began := awaitContainerEvent(b, msgs, errs, id, c.begins, at)
		b.StopTimer()
		if id == ourID {
			// The alert of this sample's trouble, not a late one of the
			// last sample's restart.
			alert := d.watch.AwaitAfter(b, mark, alertType, ours, func(m daemontest.Message) bool {
				is := m.Issues()
				return len(is) > 0 && is[0] == c.issue
			}, reactionPatience)
			alerted = append(alerted, alert.At.Sub(at))
			decision := d.watch.AwaitAfter(b, mark, neededType, ours, nil, reactionPatience)
			decided = append(decided, decision.At.Sub(at))
			acted = append(acted, began.Sub(decision.At))
			// Let hemostatd finish (verify, publish) before the next
			// sample.
			d.watch.AwaitAfter(b, mark, completeType, ours, nil, reactionPatience)
		} else {
			called, err := healer.wait()
			if err != nil {
				b.Fatalf("baseline healer: %v", err)
			}
			baseCalled = append(baseCalled, called.Sub(at))
			baseEngine = append(baseEngine, began.Sub(called))
		}
		recover()
		b.StartTimer()
		return began.Sub(at)
	}
	// One round unrecorded: hemostatd's first sight of the container and
	// the plugins' first calls are not what is measured.
	sample(ourID)
	sample(twinID)
	stopProfile := profileDaemon(b, d, profDir, "hemostatd-reaction-"+c.name)
	b.ResetTimer()
	for b.Loop() {
		for i := range eventsPerOp {
			if i%2 == 0 {
				full = append(full, sample(ourID))
				base = append(base, sample(twinID))
			} else {
				base = append(base, sample(twinID))
				full = append(full, sample(ourID))
			}
		}
	}
	b.StopTimer()
	stopProfile()
	report(b, full, base)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(percentile(alerted, 50)), "alert-p50-ms")
	b.ReportMetric(ms(percentile(decided, 50)), "decision-p50-ms")
	b.ReportMetric(ms(percentile(acted, 50)), "decision-to-begin-p50-ms")
	b.ReportMetric(ms(percentile(baseCalled, 50)), "baseline-call-p50-ms")
	b.ReportMetric(ms(percentile(baseEngine, 50)), "baseline-call-to-begin-p50-ms")
	// hemostatd's own part, from the event to its engine call, is not
	// seen from outside; the engine's part of the baseline, measured in
	// the same run, stands in for the engine's part of hemostatd's.
	b.ReportMetric(ms(percentile(full, 50)-percentile(baseEngine, 50)), "hemostatd-to-call-est-p50-ms")
}

// drainEvents drops the engine events already received — the tail of the
// previous sample (a second unhealthy report, the recovery's events) — so
// that the next sample's trigger is its own.
func drainEvents(msgs <-chan events.Message) {
	for {
		select {
		case <-msgs:
		default:
			return
		}
	}
}

// healer is the baseline: a minimal event-driven healer of one container,
// like docker-autoheal with an event subscription instead of a poll. It
// acts only when armed, so that the benchmark's own stops are left alone,
// as hemostatd leaves a requested stop alone.
type healer struct {
	armed atomic.Bool
	done  chan healerCall
}

// healerCall is the call the armed healer made: when, and its error.
type healerCall struct {
	at  time.Time
	err error
}

func (h *healer) arm() { h.armed.Store(true) }

// wait returns when the armed healer made its call, and the call's error.
func (h *healer) wait() (time.Time, error) {
	select {
	case c := <-h.done:
		return c.at, c.err
	case <-time.After(reactionPatience):
		return time.Time{}, fmt.Errorf("no call within %s", reactionPatience)
	}
}

func startHealer(ctx context.Context, b *testing.B, cli *client.Client, id string, c reactionCase) *healer {
	b.Helper()
	msgs, errs := cli.Events(ctx, events.ListOptions{Filters: filters.NewArgs(
		filters.Arg("type", string(events.ContainerEventType)), filters.Arg("container", id),
	)})
	h := &healer{done: make(chan healerCall, 1)}
	go func() {
		for {
			select {
			case m := <-msgs:
				if string(m.Action) == c.trigger && h.armed.CompareAndSwap(true, false) {
					at := time.Now()
					h.done <- healerCall{at: at, err: c.heal(ctx, cli, id)}
				}
			case <-errs:
				return
			}
		}
	}()
	return h
}

// awaitContainerEvent waits for the engine event action about id, later
// than after on the engine's clock, and returns its engine time.
func awaitContainerEvent(b *testing.B, msgs <-chan events.Message, errs <-chan error, id, action string, after time.Time) time.Time {
	b.Helper()
	timeout := time.After(reactionPatience)
	var seen []string
	for {
		select {
		case m := <-msgs:
			at := time.Unix(0, m.TimeNano)
			if m.Actor.ID == id && string(m.Action) == action && at.After(after) {
				return at
			}
			seen = append(seen, fmt.Sprintf("%.12s %s", m.Actor.ID, m.Action))
		case err := <-errs:
			b.Fatalf("engine events: %v", err)
		case <-timeout:
			b.Fatalf("no %s event for %.12s within %s; saw %q", action, id, reactionPatience, seen)
		}
	}
}
