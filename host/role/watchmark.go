package role

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hemostat/hemostat/host/bus"
)

// The monitor role keeps a watch mark in Redis (protocol.WatchedKey): a
// moment until which every exit on its engine reached a monitor. The
// monitor that comes next — a standby taking the lease, a hemostatd
// started again, a plugin's stream reopened — counts an exit after the
// mark as a crash nobody saw, even of a container never seen running.
//
// A mark later than the truth loses a crash; one earlier than it only
// makes the next monitor look again at exits that were seen, which the
// stats key then recognises (see seenExit). So every rule below errs
// early: a mark is written only while this daemon is active and every
// plugin's stream has been open a while, never after a sample was
// dropped as a standby's, and it trails the moment it was taken by a
// margin for samples still on their way and for clock skew between
// hemostatd and a remote engine.

// watchMarkEvery is how often the monitor role records that it watches
// its engine, and how long a plugin's stream must have been open before
// it counts as watching (its first sync, which lists every container,
// done).
var watchMarkEvery = 2 * time.Second

// watchMarkMargin is how far a mark trails the moment it stands for: a
// die the monitor plugin holds back for its OOM check (half a second),
// its way over gRPC, and clock skew.
var watchMarkMargin = 2 * time.Second

// seenExitSlack is how much earlier than an exit the stats key may say
// the container stopped and still be that exit's record: the key's time
// is whole seconds, and the engine's clock and the plugin's may differ.
const seenExitSlack = 2 * time.Second

// watchMarkTimeout bounds each read and write of the mark.
const watchMarkTimeout = 500 * time.Millisecond

// watchMarker keeps one monitor run's mark.
type watchMarker struct {
	bus    *bus.Bus
	host   string
	log    hclog.Logger
	active Active

	// opened holds, per plugin, when its current stream was opened (Unix
	// ns), 0 while it is closed.
	opened []atomic.Int64
	// dropped: a sample was dropped because the lease was not held. What
	// it told is lost to this run, which marks nothing from then on.
	dropped bool

	// A mark taken while samples waited is written once they are handled.
	pending  time.Time
	awaiting int
	failing  bool
}

func newWatchMarker(m *Monitor) *watchMarker {
	return &watchMarker{bus: m.Bus, host: m.Fleet.Host, log: m.Logger, active: m.Active, opened: make([]atomic.Int64, len(m.Plugins))}
}

// read is the mark the run before this one left; the zero time when there
// is none, in which case an exit found stopped is judged, as before marks,
// by what the detector and the stats key knew.
func (w *watchMarker) read(ctx context.Context) time.Time {
	rctx, cancel := context.WithTimeout(ctx, watchMarkTimeout)
	defer cancel()
	mark, err := w.bus.WatchMark(rctx, w.host)
	if err != nil {
		w.log.Warn("read when the engine was last watched; a crash while nobody watched is seen only for containers seen running before", "error", err)
	}
	return mark
}

// streamOpened and streamClosed follow plugin i's stream.
func (w *watchMarker) streamOpened(i int) { w.opened[i].Store(time.Now().UnixNano()) }
func (w *watchMarker) streamClosed(i int) { w.opened[i].Store(0) }

// watching says whether every plugin's stream has been open long enough
// to have listed the containers, and this run has missed nothing.
func (w *watchMarker) watching(now time.Time) bool {
	if w.dropped || !w.active.now() {
		return false
	}
	for i := range w.opened {
		at := w.opened[i].Load()
		if at == 0 || now.Sub(time.Unix(0, at)) < watchMarkEvery {
			return false
		}
	}
	return true
}

// tick takes a mark; with queued samples still to handle, it is written
// once they are.
func (w *watchMarker) tick(ctx context.Context, queued int) {
	now := time.Now()
	if !w.watching(now) {
		return
	}
	if queued == 0 {
		w.write(ctx, now)
		return
	}
	if w.pending.IsZero() {
		w.pending, w.awaiting = now, queued
	}
}

// handled counts one sample handled, and writes a pending mark when the
// samples queued before it are done.
func (w *watchMarker) handled(ctx context.Context) {
	if w.pending.IsZero() {
		return
	}
	if w.awaiting--; w.awaiting > 0 {
		return
	}
	at := w.pending
	w.pending = time.Time{}
	if w.watching(time.Now()) {
		w.write(ctx, at)
	}
}

// write records that every exit before at, less the margin, reached this
// monitor.
func (w *watchMarker) write(ctx context.Context, at time.Time) {
	wctx, cancel := context.WithTimeout(ctx, watchMarkTimeout)
	defer cancel()
	err := w.bus.SetWatchMark(wctx, w.host, at.Add(-watchMarkMargin))
	switch {
	case err != nil && !w.failing:
		w.failing = true
		w.log.Warn("cannot record that the engine is watched; a successor would look again at older exits", "error", err)
	case err == nil && w.failing:
		w.failing = false
		w.log.Info("the engine's watch mark is written again")
	}
}
