package monitor

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/hemostat/hemostat/sdk"
)

// watchedActions are the container events the plugin subscribes to. kill,
// rename and update are not reported: kill tells a requested stop from a
// crash, rename keeps names current, update refreshes the restart policy.
var watchedActions = []events.Action{
	events.ActionDie, events.ActionOOM, events.ActionHealthStatus,
	events.ActionStart, events.ActionRestart, events.ActionDestroy,
	events.ActionPause, events.ActionUnPause, events.ActionStop,
	events.ActionKill, events.ActionRename, events.ActionUpdate,
}

// watchEvents keeps an event subscription open, reconnecting with backoff
// whenever the engine goes away, until ctx ends.
func (w *watcher) watchEvents(ctx context.Context) error {
	b := newBackoff(reconnectMin, reconnectMax)
	for {
		err := w.session(ctx, b)
		if ctx.Err() != nil {
			return nil
		}
		var ee emitError
		if errors.As(err, &ee) {
			return err
		}
		w.log.Warn("docker events stream lost; reconnecting", "error", err, "retry_in", b.next)
		if !b.wait(ctx) {
			return nil
		}
	}
}

// session subscribes to events, brings the inventory up to date (a full
// report the first time, the changes missed while disconnected after
// that) and handles events until the stream breaks.
func (w *watcher) session(ctx context.Context, b *backoff) error {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	f := filters.NewArgs(filters.Arg("type", string(events.ContainerEventType)))
	for _, a := range watchedActions {
		f.Add("event", string(a))
	}
	// The subscription starts before the resync lists the containers and
	// replays from the moment it was asked for, so that an event between
	// the two is never lost; events the resync already saw are dropped
	// by handle.
	msgs, errs := w.cli.Events(sctx, events.ListOptions{Filters: f, Since: unixNano(w.now())})
	if err := w.resync(sctx); err != nil {
		return fmt.Errorf("resync: %w", err)
	}
	b.reset()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-errs:
			if err == nil {
				err = errors.New("events stream closed")
			}
			if rerr := w.releaseAll(ctx); rerr != nil {
				return rerr
			}
			return err
		case m := <-msgs:
			if err := w.handle(sctx, m); err != nil {
				return err
			}
		case <-w.heldDue():
			if err := w.releaseDue(sctx); err != nil {
				return err
			}
		}
	}
}

func unixNano(t time.Time) string {
	return fmt.Sprintf("%d.%09d", t.Unix(), t.Nanosecond())
}

// handle turns one engine event into samples: at most one of its own,
// after the die held for the container if there is one (see holdDie).
func (w *watcher) handle(ctx context.Context, m events.Message) error {
	if h, ok := w.takeHeld(m.Actor.ID); ok {
		return w.handleHeld(ctx, m, h)
	}
	return w.handleEvent(ctx, m)
}

// handleEvent turns one engine event into at most one sample.
func (w *watcher) handleEvent(ctx context.Context, m events.Message) error {
	id := m.Actor.ID
	at := time.Unix(0, m.TimeNano).UTC()
	action, detail, _ := strings.Cut(string(m.Action), ": ")

	info, known := w.inv.get(id)
	if known && at.Before(info.SyncedAt) {
		// A resync inspected the container after this event: its state,
		// and any sample the change deserved, already include it.
		return nil
	}
	if known && !info.Reported && action != string(events.ActionRename) && action != string(events.ActionDestroy) {
		// Out of scope for good: labels never change.
		return nil
	}
	if action == string(events.ActionDestroy) {
		w.inv.remove(id)
		w.logs.forget(id)
		if !known || !info.Reported {
			return nil
		}
		info.Status = "removed"
		return w.emitEvent(ctx, info, sdk.EventDestroy, nil)
	}
	if !known {
		// First sight: one inspect for what never changes. A known
		// container is not inspected again; an inspect can wait on the
		// engine's lock of a container in the middle of exiting, and
		// every event after it would wait too.
		fresh, err := w.inspect(ctx, id)
		if err == nil {
			info = *fresh
		} else {
			// Gone already (docker run --rm): the event's attributes are
			// all there is.
			info = infoFromEvent(m)
		}
	}
	info.Reported = w.filter.reported(info.ID, info.Name, info.Labels)

	var event string
	var mutate func(*sdk.Sample)
	switch events.Action(action) {
	case events.ActionStart:
		// An inspect may already show the exit of a container that lived
		// for milliseconds; its die event follows.
		if known && info.Status != "restarting" {
			// docker start and docker restart reset the count; only the
			// restart policy's own restarts add to it (see applyDie).
			info.RestartCount = 0
		}
		if known || info.StartedAt.IsZero() {
			info.StartedAt = at
		}
		info.Status = "running"
		info.Health = healthOnStart(info.Health)
		info.StopRequested, info.PolicyCancelled, info.ManuallyStopped = false, false, false
		info.OOMSeen, info.OOMKilled = false, false
		event = sdk.EventStart
	case events.ActionRestart:
		event = sdk.EventRestart
	case events.ActionKill:
		info.applyKill(killSignal(m.Actor.Attributes))
	case events.ActionRename:
		if name := m.Actor.Attributes["name"]; name != "" {
			info.Name = strings.TrimPrefix(name, "/")
		}
	case events.ActionUpdate:
		if fresh, err := w.inspect(ctx, id); err == nil {
			info.RestartPolicy = fresh.RestartPolicy
		}
	case events.ActionOOM:
		if info.OOMSeen && info.Status != "running" {
			// The engine can send more than one oom event for the kill
			// that ended this run; the first was reported.
			return nil
		}
		info.OOMSeen, info.OOMKilled = true, true
		event = sdk.EventOOM
	case events.ActionDie:
		w.applyDie(&info, m.Actor.Attributes["exitCode"])
		if info.ExitCode == oomExitCode && !info.OOMSeen && !info.StopRequested {
			// The engine sends no oom event for a container killed in
			// its first milliseconds; only its state says so. A 137 with
			// no kill before it is rare enough to ask. When the state
			// does not say so yet, the oom event may still be on its way.
			if fresh, err := w.inspect(ctx, id); err == nil && fresh.OOMKilled {
				info.OOMKilled = true
			} else if info.Reported {
				w.inv.put(info)
				w.holdDie(info)
				return nil
			}
		}
		w.inv.put(info)
		if !info.Reported {
			return nil
		}
		return w.emitDie(ctx, info)
	case events.ActionStop:
		info.Status = "exited"
		event = sdk.EventStop
		mutate = func(s *sdk.Sample) { s.StopRequested = true }
	case events.ActionPause:
		info.Status = "paused"
		event = sdk.EventPause
	case events.ActionUnPause:
		info.Status = "running"
		event = sdk.EventUnpause
	case events.ActionHealthStatus:
		info.Health = strings.TrimSpace(detail)
		event = sdk.EventHealthStatus
	}
	w.inv.put(info)
	if event == "" || !info.Reported {
		return nil
	}
	if event == sdk.EventStart {
		w.logs.follow(ctx, id, info.Tty)
	}
	return w.emitEvent(ctx, info, event, mutate)
}

// oomExitCode is a process's exit code after SIGKILL, which is what the
// kernel's OOM killer sends.
const oomExitCode = 137

// healthOnStart is the health a container starts with: the engine resets
// a container with a health check to "starting".
func healthOnStart(previous string) string {
	if previous == "" {
		return ""
	}
	return sdk.HealthStarting
}

// applyDie updates info for a die with the event's exit code, predicting
// what the engine's restart policy does next: the engine decided before
// it sent the event, and asking it again would cost a round trip.
func (w *watcher) applyDie(info *containerInfo, exitCode string) {
	if code, err := strconv.Atoi(exitCode); err == nil {
		info.ExitCode = code
	}
	info.OOMKilled = info.OOMSeen
	info.FinishedAt = w.now()
	if info.willRestart(info.ExitCode) {
		info.Status = "restarting"
		info.RestartCount++
	} else {
		info.Status = "exited"
	}
}

// emitEvent emits a lifecycle sample for info, with the log tail when the
// event is one a person will want to read the logs for.
func (w *watcher) emitEvent(ctx context.Context, info containerInfo, event string, mutate func(*sdk.Sample)) error {
	s := info.sample(w.now())
	s.Event = event
	if event == sdk.EventDie || event == sdk.EventDestroy {
		s.ExitCode = info.ExitCode
	}
	if mutate != nil {
		mutate(&s)
	}
	if w.cfg.logTailLines > 0 && wantsLogs(s) {
		s.LogTail = w.logTailOf(ctx, info, event)
	}
	s.Time = w.now()
	return w.emit(s)
}

// logTailOf returns a lifecycle sample's log tail: the followed stream's
// lines when the container's logs are followed (after a die, once the
// stream has ended), else a tail read from the engine now.
func (w *watcher) logTailOf(ctx context.Context, info containerInfo, event string) []string {
	if text, ok := w.logs.tail(info.ID, event == sdk.EventDie); ok {
		return tailLines(text, w.cfg.logTailLines, w.cfg.redactor)
	}
	tail, err := logTail(ctx, w.cli, info.ID, info.Tty, w.cfg.logTailLines, w.cfg.redactor)
	if err != nil {
		w.log.Debug("no log tail", "container", info.Name, "error", err)
	}
	return tail
}

// wantsLogs says whether a sample deserves a log tail: a crash, an OOM
// kill or a failing health check.
func wantsLogs(s sdk.Sample) bool {
	switch s.Event {
	case sdk.EventDie:
		return !s.StopRequested
	case sdk.EventOOM:
		return true
	case sdk.EventHealthStatus:
		return s.Health == sdk.HealthUnhealthy
	}
	return false
}

// inspect reads a container's full state from the engine, giving up after
// engineCallTimeout: the event loop and the resync wait for it.
func (w *watcher) inspect(ctx context.Context, id string) (*containerInfo, error) {
	ictx, cancel := context.WithTimeout(ctx, w.callTimeout)
	defer cancel()
	c, err := w.cli.ContainerInspect(ictx, id)
	if timedOut(ictx, err) {
		w.log.Warn("docker engine did not answer an inspect in time", "container", shortID(id), "timeout", w.callTimeout)
		return nil, fmt.Errorf("inspect %s: %w", shortID(id), errEngineTimeout)
	}
	if err != nil {
		return nil, err
	}
	info := infoFromInspect(c)
	info.Reported = w.filter.reported(info.ID, info.Name, info.Labels)
	return info, nil
}

// infoFromEvent builds what can be known of a container from an event's
// attributes alone: its name, image and labels.
func infoFromEvent(m events.Message) containerInfo {
	info := containerInfo{ID: m.Actor.ID, Labels: map[string]string{}}
	for k, v := range m.Actor.Attributes {
		switch k {
		case "name":
			info.Name = strings.TrimPrefix(v, "/")
		case "image":
			info.Image = v
		case "exitCode", "execDuration", "signal":
		default:
			info.Labels[k] = v
		}
	}
	return info
}
