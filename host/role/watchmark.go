package role

import (
	"context"
	"time"
)

// watchMarkEvery is how often the monitor role records that it watches
// its engine. A mark at most this old is what a successor finds after a
// SIGKILL: an exit in those last seconds was seen and handled here
// already, and the responder's gate, kept in Redis, keeps the successor's
// second look at it from acting twice.
const watchMarkEvery = 2 * time.Second

// watchMarkTimeout bounds each write of the mark, the last one included,
// which is made after the run's context has ended.
const watchMarkTimeout = 500 * time.Millisecond

// readMark is when this host's engine was last watched, by this daemon
// or the one before it; the zero time when that is unknown, in which case
// an exit found stopped is judged, as before marks, by what the detector
// and the stats key knew.
func (m *Monitor) readMark(ctx context.Context) time.Time {
	mark, err := m.Bus.WatchMark(ctx, m.Fleet.Host)
	if err != nil {
		m.Logger.Warn("read when the engine was last watched; a crash while nobody watched is seen only for containers seen running before", "error", err)
	}
	return mark
}

// writeMark records that this monitor watched the engine until now. A
// standby's does not: it watches nothing, and drops what it still hears.
func (m *Monitor) writeMark(ctx context.Context) {
	if !m.Active.now() {
		return
	}
	wctx, cancel := context.WithTimeout(ctx, watchMarkTimeout)
	defer cancel()
	if err := m.Bus.SetWatchMark(wctx, m.Fleet.Host, time.Now()); err != nil {
		m.Logger.Debug("record that the engine is watched", "error", err)
	}
}
