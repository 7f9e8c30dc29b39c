package role

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hemostat/hemostat/host/bus"
	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/sdk"
)

// Monitor is the monitor role: it runs the monitor plugins' Watch streams,
// keeps every container's stats and history in Redis and publishes a
// health_alert when the detector finds something.
type Monitor struct {
	Bus      *bus.Bus
	Plugins  []sdk.Monitor
	Detect   Thresholds
	Logger   hclog.Logger
	OnSample func(sdk.Sample) // optional observer, for metrics
	// Active, when set, drops what a standby daemon's monitor still hears.
	Active Active
	// Fleet names this host's containers "<host>/<name>" in a fleet, from
	// the sample on: stats, history, alerts and all that follows.
	Fleet Fleet

	pub  *publisher
	live liveThresholds // a reload's Detect, taken on by the next sample
}

// watchRetryMax caps the pause between two Watch attempts of a plugin that
// keeps failing (for instance while the supervisor restarts it).
const watchRetryMax = 10 * time.Second

// Run blocks until ctx ends.
func (m *Monitor) Run(ctx context.Context) error {
	// The mark of the last watch, read before this one writes its own:
	// what exited after it exited while nobody watched.
	mark := m.readMark(ctx)
	samples := make(chan watchedSample, 1024)
	var wg sync.WaitGroup
	for _, p := range m.Plugins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.watch(ctx, p, mark, samples)
		}()
	}
	det := newDetector(m.Detect)
	m.pub = &publisher{bus: m.Bus, agent: protocol.AgentMonitor, log: m.Logger}
	defer m.pub.wait()
	sweep := time.NewTicker(time.Minute)
	defer sweep.Stop()
	// The mark is written here, between samples, and only when none
	// waits: "watched until now" then means every sample the plugins sent
	// before now was handled. The first waits one period, so that the
	// plugins' streams are open and their first sync done.
	markTick := time.NewTicker(watchMarkEvery)
	defer markTick.Stop()
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			if len(samples) == 0 {
				m.writeMark(context.WithoutCancel(ctx))
			}
			return nil
		case now := <-sweep.C:
			det.forgetIdle(now, 2*time.Hour)
		case <-markTick.C:
			if len(samples) == 0 {
				m.writeMark(ctx)
			}
		case ws := <-samples:
			m.handle(ctx, det, ws)
		}
	}
}

// watchedSample is a sample as one of the plugins' streams delivered it.
type watchedSample struct {
	sdk.Sample
	// exitedUnwatched: the first report of a stopped container in a stream
	// whose exit came after the engine was last watched — a crash no
	// die event told of, whatever was known of the container before.
	exitedUnwatched bool
}

// watch keeps one plugin's stream open, reopening it with capped backoff.
// mark is when the engine was last watched before this run; each stream
// after the first was preceded by a gap that began when the one before it
// ended.
func (m *Monitor) watch(ctx context.Context, p sdk.Monitor, mark time.Time, out chan<- watchedSample) {
	delay := 100 * time.Millisecond
	for ctx.Err() == nil {
		started := time.Now()
		reported := map[string]bool{}
		err := p.Watch(ctx, func(s sdk.Sample) error {
			ws := watchedSample{Sample: s}
			if s.Event == "" && stoppedStatus(s.Status) && !reported[s.Container] {
				reported[s.Container] = true
				ws.exitedUnwatched = !mark.IsZero() && s.FinishedAt.After(mark)
			}
			select {
			case out <- ws:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		if ctx.Err() != nil {
			return
		}
		mark = time.Now()
		if time.Since(started) > time.Minute {
			delay = 100 * time.Millisecond
		}
		m.Logger.Warn("monitor stream ended; reopening", "error", errString(err), "in", delay)
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(delay*2, watchRetryMax)
	}
}

func stoppedStatus(status string) bool { return status == "exited" || status == "dead" }

func (m *Monitor) handle(ctx context.Context, det *detector, ws watchedSample) {
	s := ws.Sample
	// A sample read before the lease was lost (a daemon paused with the
	// plugin's stream full) is the new holder's to report, not ours.
	if !m.Active.now() {
		return
	}
	if s.Container == "" {
		m.Logger.Warn("monitor plugin sent a sample without a container name; skipped")
		return
	}
	if s.Time.IsZero() {
		s.Time = time.Now().UTC()
	}
	s.Container = m.Fleet.Qualify(s.Container)
	if m.OnSample != nil {
		m.OnSample(s)
	}
	if th, ok := m.live.take(); ok {
		det.th = th
	}
	if ws.exitedUnwatched {
		// Whatever the stats key or the detector knew, the container ran
		// after the last watch: its exit is news.
		det.ranUnwatched(s.Container)
	} else {
		m.recallStatus(ctx, det, s)
	}
	// Stats are for the containers HemoStat looks after. The history keeps
	// every sample, opted-out and destroyed containers included: the
	// responder reads labels (the opt-out) and removals from it, whoever
	// asked it to act.
	var stats *protocol.Stats
	if !sdk.OptedOut(s.Labels) && s.Event != sdk.EventDestroy {
		st := protocol.StatsFromSample(s)
		stats = &st
	}
	found, ok := det.observe(s)
	if !ok {
		if err := m.Bus.RecordSample(ctx, stats, s); err != nil {
			m.Logger.Error("store sample", "container", s.Container, "error", err)
		}
		return
	}
	alert := protocol.HealthAlert{
		Container: s.Container,
		Issues:    found.Issues,
		Metrics:   metricsMap(s),
		Sample:    &s,
	}
	// The alert goes out in the round trip that stores the sample, after
	// it: the analyzer, reading the history on receipt, finds the sample,
	// and the alert does not wait for two round trips of bookkeeping.
	writeErr, pubErr := m.Bus.RecordSampleAndPublish(ctx, stats, s, protocol.AgentMonitor, protocol.TypeHealthAlert, alert)
	if writeErr != nil {
		m.Logger.Error("store sample", "container", s.Container, "error", writeErr)
	}
	m.pub.failed(ctx, protocol.TypeHealthAlert, alert, s.Container, pubErr)
	m.Logger.Info("health alert", "container", s.Container, "issues", found.Issues)
}

// recallStatus reads, before it is overwritten, the status the stats key
// holds for a stopped container the detector has not seen yet: after a
// restart of hemostatd (or a standby taking over) it is the only record of
// the container running before the gap. Only state samples of stopped
// containers ask; they come once per container per Watch.
func (m *Monitor) recallStatus(ctx context.Context, det *detector, s sdk.Sample) {
	if s.Event != "" || !stoppedStatus(s.Status) || det.knows(s.Container) {
		return
	}
	prev, ok, err := m.Bus.Stats(ctx, s.Container)
	if err != nil {
		m.Logger.Warn("read stats", "container", s.Container, "error", err)
		return
	}
	if ok {
		det.recall(s.Container, prev.Status)
	}
}

// metricsMap is the alert's metrics object: the protocol's fields plus the
// lifecycle facts an external analyzer would want.
func metricsMap(s sdk.Sample) map[string]any {
	pm := protocol.MetricsFromSample(s)
	m := map[string]any{
		"name":       pm.Name,
		"status":     pm.Status,
		"memory_pct": pm.MemoryPct,
		"cpu_pct":    pm.CPUPct,
		"timestamp":  pm.Timestamp,
	}
	if s.Event != "" {
		m["event"] = s.Event
	}
	if s.Event == sdk.EventDie || s.ExitCode != 0 {
		m["exit_code"] = s.ExitCode
	}
	if s.OOMKilled {
		m["oom_killed"] = true
	}
	if s.Health != "" {
		m["health"] = s.Health
	}
	if s.RestartCount != 0 {
		m["restart_count"] = s.RestartCount
	}
	return m
}

func errString(err error) string {
	if err == nil {
		return "stream closed by the plugin"
	}
	if errors.Is(err, context.Canceled) {
		return "canceled"
	}
	return err.Error()
}
