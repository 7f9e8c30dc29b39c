package monitor

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/errdefs"
	"github.com/hemostat/hemostat/sdk"
	"golang.org/x/sync/errgroup"
)

// resync lists and inspects every container and brings the inventory up to
// date. The first time it reports one state sample per container, so that
// the host learns what is already exited or unhealthy; after a disconnect
// it reports, as lifecycle samples, every change that happened while the
// events were not flowing, so that nothing is missed.
func (w *watcher) resync(ctx context.Context) error {
	lctx, cancel := context.WithTimeout(ctx, w.callTimeout)
	list, err := w.cli.ContainerList(lctx, container.ListOptions{All: true})
	if timedOut(lctx, err) {
		err = fmt.Errorf("list containers: %w", errEngineTimeout)
	}
	cancel()
	if err != nil {
		return err
	}
	fresh := make([]*containerInfo, len(list))
	// stalled holds the containers whose inspect timed out: one container
	// stuck in the engine must not keep every other from being synced.
	// What was known of them stays; one never seen is inspected at its
	// next event.
	stalled := make([]bool, len(list))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(w.cfg.concurrency)
	for i, c := range list {
		g.Go(func() error {
			at := w.now()
			info, err := w.inspect(gctx, c.ID)
			if errdefs.IsNotFound(err) {
				return nil // removed since the list: its destroy event follows
			}
			if errors.Is(err, errEngineTimeout) {
				stalled[i] = true
				return nil
			}
			if err != nil {
				return err
			}
			info.SyncedAt = at
			fresh[i] = info
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}

	initial := !w.synced
	seen := make(map[string]bool, len(fresh))
	for i, c := range list {
		if stalled[i] {
			seen[c.ID] = true
		}
	}
	for _, cur := range fresh {
		if cur == nil {
			continue
		}
		seen[cur.ID] = true
		old, known := w.inv.get(cur.ID)
		w.inv.put(*cur)
		if !cur.Reported {
			continue
		}
		if cur.Status == "running" {
			w.logs.follow(ctx, cur.ID, cur.Tty)
		}
		if initial {
			if err := w.emit(cur.stateSample(w.now())); err != nil {
				return err
			}
			continue
		}
		for _, ch := range missedChanges(old, known, *cur) {
			if err := w.emitEvent(ctx, ch.info, ch.event, ch.mutate); err != nil {
				return err
			}
		}
	}
	for _, id := range w.inv.ids() {
		if seen[id] {
			continue
		}
		old, _ := w.inv.get(id)
		w.inv.remove(id)
		if old.Reported && !initial {
			old.Status = "removed"
			if err := w.emitEvent(ctx, old, sdk.EventDestroy, nil); err != nil {
				return err
			}
		}
	}
	if !w.synced {
		w.synced = true
		close(w.firstSync)
	}
	if w.onSynced != nil {
		w.onSynced()
	}
	return nil
}

// stateSample is the sample of a container's state a first resync
// reports. For a stopped container it says, as missedChanges does, whether
// the exit code is a stop's: the host compares the state with what it knew
// before this Watch, and a container that exited while no plugin watched
// is a crash only if nobody asked it to stop.
func (c *containerInfo) stateSample(now time.Time) sdk.Sample {
	s := c.sample(now)
	if c.Status == "exited" || c.Status == "dead" {
		s.StopRequested = c.exitWasRequested(c.ExitCode, c.OOMKilled)
	}
	return s
}

// change is one lifecycle sample a resync owes the host.
type change struct {
	info   containerInfo
	event  string
	mutate func(*sdk.Sample)
}

// missedChanges compares what was known of a container before a
// disconnect with what an inspect shows now, and returns the lifecycle
// samples the missed events would have produced, oldest first.
func missedChanges(old containerInfo, known bool, cur containerInfo) []change {
	var out []change
	if !known || cur.FinishedAt.After(old.FinishedAt) {
		if !cur.FinishedAt.IsZero() && (known || cur.Status != "running") {
			die := cur
			restarting := cur.Status == "restarting" || (cur.Status == "running" && cur.StartedAt.After(cur.FinishedAt))
			if restarting {
				die.Status = "restarting"
			} else if die.Status == "running" || die.Status == "paused" {
				die.Status = "exited"
			}
			// The events that would say whether the exit was asked for are
			// lost; the exit code tells a stop by signal (the engine
			// stopping every container on its shutdown) from a crash.
			requested := cur.exitWasRequested(cur.ExitCode, cur.OOMKilled)
			out = append(out, change{info: die, event: sdk.EventDie, mutate: func(s *sdk.Sample) {
				s.RestartingByDocker = restarting
				s.StopRequested = requested
			}})
		}
	}
	if cur.Status == "running" && (!known || cur.StartedAt.After(old.StartedAt)) {
		out = append(out, change{info: cur, event: sdk.EventStart})
	}
	if known && old.Status != cur.Status {
		switch {
		case cur.Status == "paused":
			out = append(out, change{info: cur, event: sdk.EventPause})
		case old.Status == "paused" && cur.Status == "running":
			out = append(out, change{info: cur, event: sdk.EventUnpause})
		}
	}
	// A health verdict is about a running container: the engine restored
	// after a restart marks the containers its shutdown stopped
	// unhealthy, which is no health check failing (their exit, if a
	// crash, was reported above).
	if cur.Status == "running" && cur.Health != "" && cur.Health != old.Health && (known || cur.Health == sdk.HealthUnhealthy) {
		out = append(out, change{info: cur, event: sdk.EventHealthStatus})
	}
	return out
}
