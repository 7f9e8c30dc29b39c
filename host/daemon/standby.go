package daemon

import (
	"context"
	"errors"
	"sync"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/config"
	"github.com/hemostat/hemostat/host/inspect"
	"github.com/hemostat/hemostat/host/lease"
)

// standby decides whether this daemon acts on its engine. Without a lease
// (the embedded Redis, or lease disabled) it always does. With one, the
// lease holder runs every role and the other daemons on the same engine
// stand by: they keep their plugins started, their HTTP API, overview and
// heartbeat, so that a takeover is only the monitor's watch reopening.
//
// All four roles follow the lease, not only the monitor and responder:
// two daemons on one engine have the same host identity, so the fleet's
// rule "each daemon judges and notifies its own host's envelopes" would
// have both judge and notify every alert of that host.
type standby struct {
	lease *lease.Lease // nil: no lease, always active
	log   hclog.Logger

	activeGauge prometheus.Gauge
	transitions prometheus.Counter

	mu      sync.Mutex
	changed chan struct{} // closed and replaced at each transition
	// terms counts the lease's acquisitions by this daemon (none without
	// a lease). Not the generation: Redis restarted empty numbers them
	// from 1 again.
	terms int64
}

func newStandby(reg prometheus.Registerer, log hclog.Logger) *standby {
	s := &standby{
		log:     log,
		changed: make(chan struct{}),
		activeGauge: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hemostat_lease_active",
			Help: "1 while this daemon acts on its engine: it holds the engine's lease, or runs without one (embedded Redis); 0 while it stands by.",
		}),
		transitions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hemostat_lease_transitions_total",
			Help: "Times this daemon took or lost its engine's lease.",
		}),
	}
	s.activeGauge.Set(1)
	reg.MustRegister(s.activeGauge, s.transitions)
	return s
}

// start sets up the lease when the Redis is shared; with the embedded one
// it warns that nothing keeps a second daemon on this engine from acting
// too. host is the engine's: the daemons that share it must agree on it,
// which the host identity's default, the engine's name, makes sure of.
// The lease's runner is returned, nil without a lease.
func (s *standby) start(ctx context.Context, cfg config.Lease, client redis.UniversalClient, embedded bool, host string) func(context.Context) error {
	if embedded {
		// Info, not a warning: this is every zero-config start. A second
		// daemon that does act on the same engine is caught in the act by
		// responder-docker, which warns of another healer and counts it in
		// hemostat_foreign_actions_total.
		s.log.Info("no lease: the embedded Redis is this daemon's alone, so another hemostatd on the same Docker engine is not coordinated with it; give both one shared Redis and one of them stands by")
		return nil
	}
	if !cfg.Enabled {
		return nil
	}
	s.activeGauge.Set(0)
	s.lease = lease.New(lease.Options{
		Client: client, Host: host, Holder: inspect.DaemonID(), TTL: cfg.TTL,
		Logger: s.log, OnChange: s.onChange,
	})
	// The first try is made here, before the roles subscribe: a daemon
	// that starts alone acts on the first envelope it hears.
	if !s.lease.TryAcquire(ctx) {
		s.log.Info("standing by: another daemon holds this engine's lease", "host", host, "ttl", cfg.TTL)
	}
	return s.lease.Run
}

func (s *standby) onChange(active bool, _ int64) {
	s.transitions.Inc()
	if active {
		s.activeGauge.Set(1)
	} else {
		s.activeGauge.Set(0)
	}
	s.mu.Lock()
	if active {
		s.terms++
	}
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

// term identifies the current lease term: it changes at each acquisition,
// and is 0 without a lease, as the responder expects.
func (s *standby) term() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.terms
}

// redisBack is told by the bus that its connection to Redis is back,
// before the bus hands on anything heard on it. A daemon whose lease
// lapsed while Redis was away (the key expired, or went with a restarted
// server) takes it again here, when no other daemon holds it: otherwise
// it would hear the first envelopes as a standby, and drop them, until
// the lease's next turn up to ttl/3 later.
func (s *standby) redisBack(ctx context.Context) {
	if s.lease == nil || s.active() {
		return
	}
	if s.lease.TryAcquire(ctx) {
		s.log.Info("redis is back: the lease was taken again before listening", "generation", s.generation())
	}
}

// wait is closed at the next transition.
func (s *standby) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// active reports whether this daemon acts on its engine now; without a
// Redis round trip (see fence for the actions themselves).
func (s *standby) active() bool {
	if s.lease == nil {
		return true
	}
	_, ok := s.lease.Active()
	return ok
}

// generation is the lease generation held, 0 without one.
func (s *standby) generation() int64 {
	if s.lease == nil {
		return 0
	}
	gen, _ := s.lease.Active()
	return gen
}

// fence is checked right before each responder action. It costs a Redis
// GET per action, on top of the clock check: actions are rare and slow (a
// restart takes seconds, the GET well under a millisecond), and only Redis
// knows of a lease lost in a failover or taken by hand. What it cannot
// close is the moment between the check and the plugin's call to the
// engine, which the engine offers no token to fence; the margin between
// this daemon's view of the lease and Redis's covers that moment unless
// the daemon is paused right inside it.
func (s *standby) fence(ctx context.Context) error {
	if s.lease == nil {
		return nil
	}
	gen, ok := s.lease.Active()
	if !ok {
		return lease.ErrNotHeld
	}
	err := s.lease.Check(ctx, gen)
	if errors.Is(err, lease.ErrVacant) {
		// Redis lost the lease (restarted empty, or failed over without
		// the key) and no other daemon took it: take it again now rather
		// than drop the action, as a lone daemon did before leases.
		s.log.Warn("the engine's lease vanished from Redis; taking it again before acting", "generation", gen)
		if regen, ok := s.lease.Retake(ctx); ok {
			return s.lease.Check(ctx, regen)
		}
	}
	return err
}

// whileActive runs run only while this daemon is active: it starts it at
// each takeover and cancels it at each loss. The monitor runs so: a
// standby does not watch the engine, and a takeover opens the watch
// afresh, whose first samples are every container's state. A lease taken
// again is a new term even when the loss went unnoticed here (it lapsed
// by the clock while Redis was away): what the monitor heard in between
// was dropped, so its watch is opened afresh, and its first sync finds
// what exited meanwhile. A lease the fence took again after Redis lost it
// restarts the watch too, needlessly but harmlessly.
func (s *standby) whileActive(run func(context.Context) error) func(context.Context) error {
	return func(ctx context.Context) error {
		for {
			for {
				changed := s.wait()
				if s.active() {
					break
				}
				select {
				case <-ctx.Done():
					return nil
				case <-changed:
				}
			}
			actx, cancel := context.WithCancel(ctx)
			term := s.term()
			go func() {
				defer cancel()
				for {
					changed := s.wait()
					if !s.active() || s.term() != term {
						return
					}
					select {
					case <-actx.Done():
						return
					case <-changed:
					}
				}
			}()
			err := run(actx)
			cancel()
			if ctx.Err() != nil {
				return nil
			}
			if err != nil && !errors.Is(err, context.Canceled) {
				return err
			}
		}
	}
}
