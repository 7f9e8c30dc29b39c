package monitor

import (
	"context"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/hemostat/hemostat/sdk"
)

// oomWait bounds how long a die with exit code 137 and no OOM record is
// held back for the oom event. Under load the engine can send the die
// before the oom, and record the OOM kill only when it handles the oom: one
// inspect at the die would report an OOM kill as a plain exit 137. A
// SIGKILL from elsewhere (kill -9 on the host) pays this wait once.
const oomWait = 500 * time.Millisecond

// heldDie is a die sample waiting for the oom event that may trail it.
type heldDie struct {
	info containerInfo
	due  time.Time
}

// holdDie keeps a die back until its oom event arrives or oomWait passes.
// Only the event loop calls it and the functions below.
func (w *watcher) holdDie(info containerInfo) {
	if w.holdTimer == nil {
		w.holdTimer = time.NewTimer(oomWait)
	} else if len(w.held) == 0 {
		w.holdTimer.Reset(oomWait)
	}
	// Every hold lasts oomWait, so the queue is in due order and the
	// timer always stands for its head.
	w.held = append(w.held, heldDie{info: info, due: w.now().Add(oomWait)})
}

// heldDue fires when the oldest held die is due; it is nil when none is
// held, which a select never chooses.
func (w *watcher) heldDue() <-chan time.Time {
	if len(w.held) == 0 {
		return nil
	}
	return w.holdTimer.C
}

// takeHeld removes and returns the die held for container id, if any.
func (w *watcher) takeHeld(id string) (heldDie, bool) {
	for i, h := range w.held {
		if h.info.ID == id {
			w.held = append(w.held[:i], w.held[i+1:]...)
			w.rearmHold()
			return h, true
		}
	}
	return heldDie{}, false
}

func (w *watcher) rearmHold() {
	if len(w.held) == 0 {
		w.holdTimer.Stop()
		return
	}
	w.holdTimer.Reset(max(w.held[0].due.Sub(w.now()), 0))
}

// releaseDue emits the held dies whose wait is over. The oom event did not
// come; the engine's record, read once more, is the last word.
func (w *watcher) releaseDue(ctx context.Context) error {
	now := w.now()
	for len(w.held) > 0 && !w.held[0].due.After(now) {
		h := w.held[0]
		w.held = w.held[1:]
		if fresh, err := w.inspect(ctx, h.info.ID); err == nil && fresh.OOMKilled {
			h.info.OOMKilled = true
			if cur, ok := w.inv.get(h.info.ID); ok && cur.FinishedAt.Equal(h.info.FinishedAt) {
				cur.OOMKilled = true
				w.inv.put(cur)
			}
		}
		if err := w.emitDie(ctx, h.info); err != nil {
			return err
		}
	}
	w.rearmHold()
	return nil
}

// releaseAll emits every held die as it stands, when the event stream
// ends: the resync after a reconnect does not report an exit the
// inventory already holds.
func (w *watcher) releaseAll(ctx context.Context) error {
	held := w.held
	w.held = nil
	if w.holdTimer != nil {
		w.holdTimer.Stop()
	}
	for _, h := range held {
		if err := w.emitDie(ctx, h.info); err != nil {
			return err
		}
	}
	return nil
}

// handleHeld handles an event for a container whose die is held: an oom
// completes the die, which follows the oom sample as it would have had the
// engine sent them in order; any other event comes after the die, which
// goes out first, as it stands.
func (w *watcher) handleHeld(ctx context.Context, m events.Message, h heldDie) error {
	if events.Action(m.Action) != events.ActionOOM {
		if err := w.emitDie(ctx, h.info); err != nil {
			return err
		}
		return w.handleEvent(ctx, m)
	}
	if err := w.handleEvent(ctx, m); err != nil {
		return err
	}
	h.info.OOMSeen, h.info.OOMKilled = true, true
	return w.emitDie(ctx, h.info)
}

// emitDie emits the die sample of info.
func (w *watcher) emitDie(ctx context.Context, info containerInfo) error {
	return w.emitEvent(ctx, info, sdk.EventDie, func(s *sdk.Sample) {
		s.StopRequested = info.StopRequested
		s.RestartingByDocker = info.Status == "restarting"
	})
}
