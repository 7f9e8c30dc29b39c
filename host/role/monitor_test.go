package role

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hemostat/hemostat/host/bus"
	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/sdk"
)

// scriptedMonitor emits its samples on each Watch, one list per Watch in
// turn, then waits for the end: a monitor plugin whose streams end when the
// test says (a plugin killed and started again).
type scriptedMonitor struct {
	watches [][]sdk.Sample
	ends    []chan struct{} // closed: that Watch returns

	mu sync.Mutex
	n  int // Watches begun
}

func newScriptedMonitor(watches ...[]sdk.Sample) *scriptedMonitor {
	m := &scriptedMonitor{watches: watches}
	for range watches {
		m.ends = append(m.ends, make(chan struct{}))
	}
	return m
}

func (*scriptedMonitor) Configure(context.Context, json.RawMessage, sdk.Host) error { return nil }

func (m *scriptedMonitor) Watch(ctx context.Context, emit func(sdk.Sample) error) error {
	m.mu.Lock()
	if m.n >= len(m.watches) {
		m.mu.Unlock()
		<-ctx.Done()
		return nil
	}
	samples, end := m.watches[m.n], m.ends[m.n]
	m.n++
	m.mu.Unlock()
	for _, s := range samples {
		if err := emit(s); err != nil {
			return err
		}
	}
	select {
	case <-ctx.Done():
		return nil
	case <-end:
		return context.DeadlineExceeded // the plugin is gone
	}
}

// runMonitorRole runs a monitor role on the rig's bus until stop.
func runMonitorRole(t *testing.T, r *rig, p sdk.Monitor) (stop func()) {
	t.Helper()
	return runMonitor(r, &Monitor{Bus: r.bus, Plugins: []sdk.Monitor{p}, Detect: testThresholds(), Logger: hclog.NewNullLogger()})
}

// runMonitor runs m until stop.
func runMonitor(r *rig, m *Monitor) (stop func()) {
	ctx, cancel := context.WithCancel(r.ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.Run(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}

// TestMonitorRoleReconcilesAfterAGap: a container the role saw running
// shows up exited in the first sync of a plugin started again — or of a
// hemostatd started again, which knows it only from its stats key — and
// is alerted as a crash exactly once.
func TestMonitorRoleReconcilesAfterAGap(t *testing.T) {
	r := newRig(t, func(_ context.Context, b *bus.Bus) {
		b.Subscribe(protocol.TypeFalseAlarm, func(context.Context, protocol.Envelope) {})
	})
	up := func(name string) sdk.Sample {
		return sdk.Sample{Container: name, Status: "running", StartedAt: time.Now().Add(-time.Hour)}
	}
	down := func(name string, code int) sdk.Sample {
		return sdk.Sample{Container: name, Status: "exited", ExitCode: code}
	}
	plugin := newScriptedMonitor(
		[]sdk.Sample{up("api"), up("web")},
		// The plugin was killed; api crashed meanwhile.
		[]sdk.Sample{down("api", 3), up("web")},
		// And again: the same exit is not a new crash.
		[]sdk.Sample{down("api", 3), up("web"), up("third")},
	)
	stop := runMonitorRole(t, r, plugin)
	waitStats(t, r, "web", "running")
	close(plugin.ends[0])
	got := r.waitFor(t, protocol.TypeHealthAlert, "api", 1)
	if a := decode[protocol.HealthAlert](t, got[0]); len(a.Issues) != 1 || a.Issues[0] != "Exited with code 3" {
		t.Errorf("alert after the gap = %+v, want Exited with code 3", a)
	}
	close(plugin.ends[1])
	waitStats(t, r, "third", "running")
	stop()

	// hemostatd itself restarts (a new role, a new detector): web was
	// running, by its stats key; api was already known to be down.
	plugin2 := newScriptedMonitor(
		[]sdk.Sample{down("api", 3), down("web", 1), down("never-seen", 1)},
	)
	stop = runMonitorRole(t, r, plugin2)
	defer stop()
	got = r.waitFor(t, protocol.TypeHealthAlert, "web", 1)
	if a := decode[protocol.HealthAlert](t, got[0]); len(a.Issues) != 1 || a.Issues[0] != "Exited with code 1" {
		t.Errorf("alert after hemostatd's restart = %+v, want Exited with code 1", a)
	}
	waitStats(t, r, "never-seen", "exited")
	time.Sleep(200 * time.Millisecond) // room for a wrong alert
	for _, c := range []string{"api", "never-seen"} {
		if n := len(r.waitFor(t, protocol.TypeHealthAlert, c, 0)); n != map[string]int{"api": 1}[c] {
			t.Errorf("%s: %d health alerts, want %d", c, n, map[string]int{"api": 1}[c])
		}
	}
}

// TestMonitorRoleSeesACrashWhileUnwatched: a container that started and
// crashed while no monitor watched the engine — between a lease's loss
// and its retaking, or while hemostatd was down — was never seen running,
// so only its exit time can tell its crash from old news. Judged against
// the mark the previous run left: an exit after it is a crash, whatever
// the detector or the stats key knew, unless the stats key shows that
// very exit seen; an exit before it is not, nor is a stop or a clean
// exit. A plugin stream that watched moves the mark to its end for the
// next; one that failed at once does not.
func TestMonitorRoleSeesACrashWhileUnwatched(t *testing.T) {
	shortMarks(t, 100*time.Millisecond)
	r := newRig(t, func(_ context.Context, b *bus.Bus) {
		b.Subscribe(protocol.TypeFalseAlarm, func(context.Context, protocol.Envelope) {})
	})
	old := time.Now().Add(-time.Hour)
	exited := func(name string, code int, finished time.Time) sdk.Sample {
		return sdk.Sample{Container: name, Status: "exited", ExitCode: code, FinishedAt: finished}
	}
	// The first run watches and leaves its mark; it saw "seen" exit.
	first := newScriptedMonitor([]sdk.Sample{
		{Container: "web", Status: "running", StartedAt: old},
		exited("known-down", 1, old),
		exited("seen", 5, time.Now()),
	})
	stop := runMonitorRole(t, r, first)
	mark := waitMark(t, r, time.Time{})
	stop()

	// Nobody watches: these containers ran and stopped meanwhile.
	gap := mark.Add(time.Millisecond)
	stopReq := exited("stopped", 143, gap)
	stopReq.StopRequested = true
	second := newScriptedMonitor(
		[]sdk.Sample{
			exited("crashed", 3, gap),
			exited("known-down", 2, gap), // restarted by someone and crashed again
			exited("seen", 5, gap),       // the exit the first run saw, just after a mark that trails it
			exited("clean", 0, gap),
			stopReq,
			exited("long-gone", 1, mark.Add(-time.Minute)),
			exited("crashed", 3, gap), // the same report again in one stream
		},
		nil, // the plugin died, and its next stream fails at once
		nil, // filled in below
	)
	close(second.ends[1])
	stop = runMonitorRole(t, r, second)
	defer stop()
	r.waitFor(t, protocol.TypeHealthAlert, "crashed", 1)
	r.waitFor(t, protocol.TypeHealthAlert, "known-down", 1)
	time.Sleep(2 * watchMarkEvery) // the first stream has watched
	ended := time.Now()
	second.mu.Lock()
	second.watches[2] = []sdk.Sample{
		exited("old-news", 4, ended.Add(-watchMarkEvery)),
		// After the first stream's end, before the failed one's.
		exited("between-streams", 6, ended.Add(50*time.Millisecond)),
	}
	second.mu.Unlock()
	close(second.ends[0])
	r.waitFor(t, protocol.TypeHealthAlert, "between-streams", 1)
	waitStats(t, r, "old-news", "exited")
	want := map[string]int{"crashed": 1, "known-down": 1, "between-streams": 1, "seen": 0, "clean": 0, "stopped": 0, "long-gone": 0, "old-news": 0}
	for c, n := range want {
		got := r.waitFor(t, protocol.TypeHealthAlert, c, 0)
		if len(got) != n {
			t.Errorf("%s: %d health alerts, want %d", c, len(got), n)
		}
		if n == 1 {
			if a := decode[protocol.HealthAlert](t, got[0]); len(a.Issues) != 1 || !strings.HasPrefix(a.Issues[0], "Exited with code") {
				t.Errorf("%s: alert %+v, want an exit", c, a)
			}
		}
	}
}

// TestMonitorRoleMarksOnlyWhatItWatched: a monitor that dropped a sample
// because the lease was not held (its daemon paused, the lease lapsed
// unannounced) stops moving the mark, even once it is active again: what
// the dropped sample told is lost to it, and the next monitor must look.
func TestMonitorRoleMarksOnlyWhatItWatched(t *testing.T) {
	shortMarks(t, 50*time.Millisecond)
	r := newRig(t, func(_ context.Context, b *bus.Bus) {
		b.Subscribe(protocol.TypeFalseAlarm, func(context.Context, protocol.Envelope) {})
	})
	var active atomic.Bool
	active.Store(true)
	feed := make(chan sdk.Sample)
	defer runMonitor(r, &Monitor{Bus: r.bus, Plugins: []sdk.Monitor{feedMonitor(feed)}, Detect: testThresholds(), Logger: hclog.NewNullLogger(), Active: active.Load})()
	feed <- sdk.Sample{Container: "web", Status: "running"}
	waitMark(t, r, waitMark(t, r, time.Time{})) // marks move on

	active.Store(false)
	off := time.Now()
	feed <- sdk.Sample{Container: "web", Status: "exited", Event: sdk.EventDie, ExitCode: 1}
	time.Sleep(300 * time.Millisecond) // handled, and dropped
	active.Store(true)
	feed <- sdk.Sample{Container: "web", Status: "running"}
	time.Sleep(10 * watchMarkEvery)
	if mark, err := r.bus.WatchMark(r.ctx, ""); err != nil || mark.After(off) {
		t.Errorf("watch mark %v (%v) after a dropped sample at %v: a monitor that missed something marked on", mark, err, off)
	}
}

// feedMonitor is a monitor plugin whose one stream sends what feed
// carries.
type feedMonitor chan sdk.Sample

func (feedMonitor) Configure(context.Context, json.RawMessage, sdk.Host) error { return nil }

func (f feedMonitor) Watch(ctx context.Context, emit func(sdk.Sample) error) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case s := <-f:
			if err := emit(s); err != nil {
				return err
			}
		}
	}
}

// shortMarks makes the monitor role mark every period, with no margin,
// for the test.
func shortMarks(t *testing.T, period time.Duration) {
	every, margin := watchMarkEvery, watchMarkMargin
	watchMarkEvery, watchMarkMargin = period, 0
	t.Cleanup(func() { watchMarkEvery, watchMarkMargin = every, margin })
}

// waitMark waits until the watch mark is later than after, and returns it.
func waitMark(t *testing.T, r *rig, after time.Time) time.Time {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		mark, err := r.bus.WatchMark(r.ctx, "")
		if err == nil && mark.After(after) {
			if mark.After(time.Now()) {
				t.Fatalf("watch mark %v is in the future", mark)
			}
			return mark
		}
		if time.Now().After(deadline) {
			t.Fatalf("no watch mark after %v within 10 s (%v, %v)", after, mark, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitStats waits until the container's stats key says status.
func waitStats(t *testing.T, r *rig, container, status string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s, ok, err := r.bus.Stats(r.ctx, container)
		if err == nil && ok && s.Status == status {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("stats of %s never said %s (last %+v, %v, %v)", container, status, s, ok, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
