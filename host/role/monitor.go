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
	// Prefetch, when set, receives what the analyzer of this process will
	// read for each alert — the container's last PrefetchHistory samples
	// and its remediations — read in the round trip that publishes the
	// alert, so that the analyzer judges at once on receipt.
	Prefetch        *Handoff
	PrefetchHistory int

	pub  *publisher
	live liveThresholds // a reload's Detect, taken on by the next sample
}

// watchRetryMax caps the pause between two Watch attempts of a plugin that
// keeps failing (for instance while the supervisor restarts it).
const watchRetryMax = 10 * time.Second

// Run blocks until ctx ends.
func (m *Monitor) Run(ctx context.Context) error {
	marker := newWatchMarker(m)
	// The mark of the last watch, read before this one writes its own:
	// what exited after it exited while nobody watched.
	mark := marker.read(ctx)
	samples := make(chan watchedSample, 1024)
	var wg sync.WaitGroup
	for i, p := range m.Plugins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.watch(ctx, p, mark, samples, marker, i)
		}()
	}
	det := newDetector(m.Detect)
	m.pub = &publisher{bus: m.Bus, agent: protocol.AgentMonitor, log: m.Logger}
	defer m.pub.wait()
	sweep := time.NewTicker(time.Minute)
	defer sweep.Stop()
	// The mark is taken here, between samples, and stands for the samples
	// queued when it was taken once they are handled.
	markTick := time.NewTicker(watchMarkEvery)
	defer markTick.Stop()
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			// No last mark: the streams close with ctx, and a mark up to
			// a period old costs the next monitor only a second look.
			return nil
		case now := <-sweep.C:
			det.forgetIdle(now, 2*time.Hour)
		case <-markTick.C:
			marker.tick(ctx, len(samples))
		case ws := <-samples:
			if !m.handle(ctx, det, ws) {
				marker.dropped = true
			}
			marker.handled(ctx)
		}
	}
}

// watchedSample is a sample as one of the plugins' streams delivered it.
type watchedSample struct {
	sdk.Sample
	// exitedAfterMark: the first report of a stopped container in a
	// stream, whose exit came after the engine was last known watched —
	// a crash no die event may have told of (see seenExit).
	exitedAfterMark bool
}

// watch keeps plugin i's stream open, reopening it with capped backoff.
// mark is when the engine was last known watched before this run; a
// stream that watched (open long enough to have listed the containers)
// moves it on to its own end for the next, which a stream that failed at
// once does not.
func (m *Monitor) watch(ctx context.Context, p sdk.Monitor, mark time.Time, out chan<- watchedSample, marker *watchMarker, i int) {
	delay := 100 * time.Millisecond
	for ctx.Err() == nil {
		started := time.Now()
		reported := map[string]bool{}
		marker.streamOpened(i)
		err := p.Watch(ctx, func(s sdk.Sample) error {
			ws := watchedSample{Sample: s}
			if s.Event == "" && stoppedStatus(s.Status) && !reported[s.Container] {
				reported[s.Container] = true
				ws.exitedAfterMark = !mark.IsZero() && s.FinishedAt.After(mark)
			}
			select {
			case out <- ws:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		marker.streamClosed(i)
		if ctx.Err() != nil {
			return
		}
		if ended := time.Now(); ended.Sub(started) >= watchMarkEvery {
			mark = ended.Add(-watchMarkMargin)
		}
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

// handle stores a sample and publishes the alert it raises; false when it
// was dropped because this daemon does not hold the lease.
func (m *Monitor) handle(ctx context.Context, det *detector, ws watchedSample) bool {
	s := ws.Sample
	// A sample read before the lease was lost (a daemon paused with the
	// plugin's stream full) is the new holder's to report, not ours.
	if !m.Active.now() {
		return false
	}
	if s.Container == "" {
		m.Logger.Warn("monitor plugin sent a sample without a container name; skipped")
		return true
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
	m.recallStatus(ctx, det, ws)
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
		return true
	}
	alert := protocol.HealthAlert{
		Container: s.Container,
		Issues:    found.Issues,
		Metrics:   metricsMap(s),
		Sample:    &s,
	}
	// The alert goes out in the round trip that stores the sample, after
	// it: the analyzer, reading the history on receipt, finds the sample,
	// and the alert does not wait for two round trips of bookkeeping. The
	// same round trip makes this process's analyzer's read.
	n, end := 0, func() {}
	if m.Prefetch != nil {
		n, end = m.PrefetchHistory, m.Prefetch.begin(s.Container)
	}
	pre, writeErr, pubErr := m.Bus.RecordSamplePublishAndRead(ctx, stats, s, protocol.AgentMonitor, protocol.TypeHealthAlert, alert, n)
	if pre != nil {
		m.Prefetch.put(s.Container, pre.RequestID, Read{History: pre.History, Remediations: pre.Remediations})
	}
	end()
	if writeErr != nil {
		m.Logger.Error("store sample", "container", s.Container, "error", writeErr)
	}
	m.pub.failed(ctx, protocol.TypeHealthAlert, alert, s.Container, pubErr)
	m.Logger.Info("health alert", "container", s.Container, "issues", found.Issues)
	return true
}

// recallStatus tells the detector, before the stats key is overwritten,
// what was known of a stopped container in a state sample (they come once
// per container per Watch), from one read of the key:
//   - an exit after the watch mark that the key does not record (see
//     seenExit) happened while nobody watched: the container ran, and its
//     exit is news, whatever the detector knew;
//   - otherwise, for a container the detector has not seen yet, the
//     status the key holds: after a restart of hemostatd (or a standby
//     taking over) it is the only record of the container running before
//     the gap.
func (m *Monitor) recallStatus(ctx context.Context, det *detector, ws watchedSample) {
	s := ws.Sample
	if s.Event != "" || !stoppedStatus(s.Status) || (!ws.exitedAfterMark && det.knows(s.Container)) {
		return
	}
	prev, ok, err := m.Bus.Stats(ctx, s.Container)
	if err != nil {
		m.Logger.Warn("read stats", "container", s.Container, "error", err)
		ok = false
	}
	switch {
	case ws.exitedAfterMark && !(ok && seenExit(prev, s)):
		det.ranUnwatched(s.Container)
	case ok && !det.knows(s.Container):
		det.recall(s.Container, prev.Status)
	}
}

// seenExit says whether the stats key records this very exit: a stopped
// state with the same exit code from no earlier than the exit (less
// seenExitSlack). That is an exit shortly before the mark, which the
// monitor before saw and judged — a person's stop, a crash already healed
// or left to a person — and must not be judged again as one nobody saw.
func seenExit(prev protocol.Stats, s sdk.Sample) bool {
	if !stoppedStatus(prev.Status) || prev.ExitCode != s.ExitCode {
		return false
	}
	at, err := protocol.ParseTimestamp(prev.Timestamp)
	return err == nil && !at.Before(s.FinishedAt.Add(-seenExitSlack))
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
