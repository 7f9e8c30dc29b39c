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
const watchMarkTimeout = time.Second

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

// keepMark records, while the run lasts and once when it ends, that this
// monitor watches the engine. The first mark waits one period, so that
// the plugins' streams are open and their first sync done before it
// claims the engine was watched.
func (m *Monitor) keepMark(ctx context.Context) {
	tick := time.NewTicker(watchMarkEvery)
	defer tick.Stop()
	write := func(ctx context.Context) {
		if !m.Active.now() {
			return // a standby watches nothing
		}
		wctx, cancel := context.WithTimeout(ctx, watchMarkTimeout)
		defer cancel()
		if err := m.Bus.SetWatchMark(wctx, m.Fleet.Host, time.Now()); err != nil {
			m.Logger.Debug("record that the engine is watched", "error", err)
		}
	}
	for {
		select {
		case <-ctx.Done():
			write(context.WithoutCancel(ctx))
			return
		case <-tick.C:
			write(ctx)
		}
	}
}
