package monitor

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/docker/docker/client"
	"github.com/hashicorp/go-hclog"
	"github.com/hemostat/hemostat/sdk"
	"golang.org/x/sync/errgroup"
)

// watcher is one running Watch: the event loop, the resource sampler and
// the state they share.
type watcher struct {
	cli    *client.Client
	cfg    settings
	log    hclog.Logger
	filter scopeFilter
	inv    *inventory
	// logs follows the running containers' logs for the lifecycle
	// samples' tails (nil with log_tail_lines = 0).
	logs *logFollowers

	emitMu sync.Mutex
	out    func(sdk.Sample) error

	// synced is set once a resync has reported every container; only the
	// event loop touches it.
	synced   bool
	onSynced func()
	// firstSync is closed after the first resync, when the inventory is
	// worth sampling.
	firstSync chan struct{}
	// held are the die samples waiting for a trailing oom event, oldest
	// first, and holdTimer fires when the oldest is due (see holdDie).
	// Only the event loop touches them.
	held      []heldDie
	holdTimer *time.Timer

	samplerOnce sync.Once
	smp         sampler

	// now is the clock; tests and benchmarks read it too.
	now func() time.Time
	// callTimeout bounds engine requests (engineCallTimeout).
	callTimeout time.Duration
}

func newWatcher(cli *client.Client, cfg settings, log hclog.Logger, self selfIdentity, out func(sdk.Sample) error) *watcher {
	return &watcher{
		cli: cli,
		cfg: cfg,
		log: log,
		filter: scopeFilter{
			optIn:   cfg.scope == ScopeOptIn,
			exclude: cfg.exclude,
			self:    self,
		},
		inv:       newInventory(),
		logs:      newLogFollowers(cli, cfg.logTailLines),
		out:       out,
		firstSync: make(chan struct{}),
		now:       func() time.Time { return time.Now().UTC() },

		callTimeout: engineCallTimeout,
	}
}

// emitError marks a failure to hand a sample to the host: the one error
// that ends a Watch.
type emitError struct{ err error }

func (e emitError) Error() string { return fmt.Sprintf("emit sample: %v", e.err) }
func (e emitError) Unwrap() error { return e.err }

// emit hands one sample to the host. Samples come from the event loop and
// the sampler's workers; the host's stream takes one at a time.
func (w *watcher) emit(s sdk.Sample) error {
	w.emitMu.Lock()
	defer w.emitMu.Unlock()
	if err := w.out(s); err != nil {
		return emitError{err}
	}
	return nil
}

// run waits for the engine, then drives the event loop and the resource
// sampler until ctx ends or a sample cannot be emitted.
func (w *watcher) run(ctx context.Context) error {
	if !w.negotiate(ctx) {
		return nil
	}
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return w.watchEvents(ctx) })
	g.Go(func() error { return w.sampleResources(ctx) })
	err := g.Wait()
	var ee emitError
	if errors.As(err, &ee) {
		return err
	}
	return nil
}

// negotiate waits, with backoff, until the engine answers a ping and fixes
// the client's API version from it. It returns false if ctx ended first.
// Negotiating up front matters: the client would otherwise negotiate on
// the first request, racing with the event stream's goroutine.
func (w *watcher) negotiate(ctx context.Context) bool {
	b := newBackoff(reconnectMin, reconnectMax)
	for {
		pctx, cancel := context.WithTimeout(ctx, w.callTimeout)
		ping, err := w.cli.Ping(pctx)
		cancel()
		if err == nil {
			w.cli.NegotiateAPIVersionPing(ping)
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		w.log.Warn("docker engine does not answer; retrying", "error", err, "retry_in", b.next)
		if !b.wait(ctx) {
			return false
		}
	}
}

// sampler returns the resource sampler, built on first use from the
// setting and the engine's cgroup driver.
func (w *watcher) sampler(ctx context.Context) sampler {
	w.samplerOnce.Do(func() {
		api := newAPISampler(w.cli, w.callTimeout, w.cfg.interval+statsGrace)
		if w.cfg.sampler == SamplerAPI {
			w.smp = api
			return
		}
		driver := ""
		ictx, cancel := context.WithTimeout(ctx, w.callTimeout)
		if info, err := w.cli.Info(ictx); err == nil {
			driver = info.CgroupDriver
		}
		cancel()
		cg := newCgroupSampler(w.cfg.cgroupRoot, "/proc", driver)
		if w.cfg.sampler == SamplerCgroup {
			w.smp = cg
			return
		}
		w.smp = &autoSampler{cgroup: cg, api: api}
	})
	return w.smp
}
