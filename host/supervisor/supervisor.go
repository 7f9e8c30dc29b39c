package supervisor

import (
	"context"
	"slices"
	"sync"

	"github.com/hashicorp/go-plugin"
)

// Supervisor starts plugins, keeps them running and stops them.
type Supervisor struct {
	opts    Options
	metrics *metrics

	// ctx is the watchers' lifetime; cancel ends it in Stop.
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	plugins []*Plugin
	stopped bool

	stopOnce sync.Once
}

// New returns a supervisor; it starts nothing until Start.
func New(opts Options) *Supervisor {
	opts = opts.withDefaults()
	removeStaleSocketDirs(opts.Logger)
	ctx, cancel := context.WithCancel(context.Background())
	return &Supervisor{opts: opts, metrics: newMetrics(opts.Registerer), ctx: ctx, cancel: cancel}
}

// Start launches a plugin, checks that it serves spec.Role and configures
// it with spec.Config and Options.Host; from then on a watcher restarts it
// whenever it crashes or hangs. If the plugin rejects its settings, the
// plugin's sdk.ConfigErrors are returned as they are and the process is
// gone.
func (s *Supervisor) Start(ctx context.Context, spec Spec) (*Plugin, error) {
	spec, err := spec.normalize()
	if err != nil {
		return nil, err
	}
	if s.isStopped() {
		return nil, ErrStopped
	}
	// Both series exist from the first launch, at 0, so that a plugin that
	// never restarted reads 0 restarts rather than no data.
	s.metrics.up.WithLabelValues(spec.Role, spec.Name)
	s.metrics.restarts.WithLabelValues(spec.Role, spec.Name)
	cfg := configuration{raw: spec.Config, host: s.opts.Host}
	if spec.Host != nil {
		cfg.host = spec.Host
	}
	in, err := s.opts.launch(ctx, spec, &cfg)
	if err != nil {
		return nil, err
	}
	p := &Plugin{
		sup: s, spec: spec, live: spec, cfg: cfg,
		log:     s.opts.Logger.Named("supervisor").With("plugin", spec.label()),
		suspect: make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		in.kill()
		return nil, ErrStopped
	}
	s.plugins = append(s.plugins, p)
	p.install(in) // a new plugin is neither stopped nor superseded
	s.mu.Unlock()
	p.log.Info("plugin started", "pid", in.pid, "version", in.info.Version)
	go p.watch(s.ctx)
	return p, nil
}

func (s *Supervisor) isStopped() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopped
}

// Stop ends every plugin: it stops the watchers, sends each plugin a
// Shutdown RPC bounded by ctx, then ends its process, killing it once ctx
// is done. It also runs go-plugin's CleanupClients for any managed client
// elsewhere in the process. Stop is idempotent and safe to call
// concurrently, from a signal handler's path among others; every call
// returns once the first has finished.
func (s *Supervisor) Stop(ctx context.Context) {
	s.stopOnce.Do(func() {
		s.mu.Lock()
		s.stopped = true
		plugins := slices.Clone(s.plugins)
		s.mu.Unlock()

		s.cancel()
		for _, p := range plugins {
			select {
			case <-p.done:
			case <-ctx.Done():
				// A watcher still starting a process kills it itself when
				// its launch returns: install refuses stopped plugins.
			}
		}
		var wg sync.WaitGroup
		for _, p := range plugins {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p.stop(ctx)
			}()
		}
		wg.Wait()
		plugin.CleanupClients()
	})
}

// stop ends the plugin for good.
func (p *Plugin) stop(ctx context.Context) {
	in := p.takeDown(StateStopped, nil)
	if in == nil {
		return
	}
	if err := in.stop(ctx); err != nil {
		p.log.Warn("plugin shutdown RPC failed", "pid", in.pid, "error", err)
		return
	}
	p.log.Info("plugin stopped", "pid", in.pid)
}

// Status returns every plugin's state, in start order.
func (s *Supervisor) Status() []Status {
	s.mu.Lock()
	plugins := slices.Clone(s.plugins)
	s.mu.Unlock()
	out := make([]Status, len(plugins))
	for i, p := range plugins {
		out[i] = p.Status()
	}
	return out
}
