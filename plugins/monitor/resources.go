package monitor

import (
	"context"
	"errors"
	"sync"
	"time"
)

// sampleResources emits a resource sample for every running, reported
// container on each tick of the interval, until ctx ends.
func (w *watcher) sampleResources(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case <-w.firstSync:
	}
	t := time.NewTicker(w.cfg.interval)
	defer t.Stop()
	prev := map[string]reading{}
	// A first pass as soon as the containers are known primes the CPU
	// counters, so that the first tick already has a delta to report.
	if err := w.sampleOnce(ctx, prev, false); err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := w.sampleOnce(ctx, prev, true); err != nil {
				return err
			}
		}
	}
}

// sampleOnce reads every running container, at most cfg.concurrency at a
// time, and emits a sample for each one that has a previous reading to
// compute CPU from; a container seen for the first time is only primed.
// prev is updated in place and forgets containers that stopped.
func (w *watcher) sampleOnce(ctx context.Context, prev map[string]reading, emit bool) error {
	smp := w.sampler(ctx)
	running := w.inv.running()

	type result struct {
		id string
		r  reading
		ok bool
	}
	results := make([]result, len(running))
	var wg sync.WaitGroup
	sem := make(chan struct{}, w.cfg.concurrency)
	var emitErr error
	var errOnce sync.Once
	for i, c := range running {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			r, err := smp.read(ctx, target{ID: c.ID, CgroupParent: c.CgroupParent})
			if errors.Is(err, errEngineTimeout) {
				w.log.Warn("resource sample timed out; skipping the container this round", "container", c.Name, "error", err)
				return
			}
			if err != nil {
				// Most often the container stopped since the snapshot;
				// its die event tells the host what matters.
				w.log.Debug("resource sample failed", "container", c.Name, "error", err)
				return
			}
			results[i] = result{id: c.ID, r: r, ok: true}
			p, primed := prev[c.ID]
			if !emit || !primed {
				return
			}
			// The snapshot is older than the read: a container that died
			// since has had its die reported, and a "running" sample
			// after it would contradict it.
			cur, ok := w.inv.get(c.ID)
			if !ok || cur.Status != "running" || !cur.StartedAt.Equal(c.StartedAt) {
				return
			}
			s := cur.sample(w.now())
			s.CPUPct = round2(cpuPercent(p, r))
			s.MemoryPct = round2(r.memoryPercent())
			s.MemoryUsage = r.memoryUsed()
			s.MemoryLimit = r.memLimit
			s.MemoryLimitIsHost = r.limitIsHost
			if err := w.emit(s); err != nil {
				errOnce.Do(func() { emitErr = err })
			}
		}()
	}
	wg.Wait()

	live := make(map[string]bool, len(results))
	for _, res := range results {
		if res.ok {
			prev[res.id] = res.r
			live[res.id] = true
		}
	}
	for id := range prev {
		if !live[id] {
			delete(prev, id)
			smp.forget(id)
		}
	}
	return emitErr
}

// round2 rounds a percentage to two decimals, as docker stats prints it.
func round2(v float64) float64 {
	return float64(int64(v*100+0.5)) / 100
}
