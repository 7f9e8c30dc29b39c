package lease

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/redis/go-redis/v9"
)

// Options configure a Lease.
type Options struct {
	Client redis.UniversalClient
	// Host is the engine host the lease is for.
	Host string
	// Holder names this daemon in the lease's value (its heartbeat id).
	Holder string
	// TTL is the lease's time to live in Redis; it is renewed every TTL/3.
	TTL time.Duration
	// Margin is how long before the TTL runs out, counted from before the
	// last confirmed renewal was sent, this daemon stops acting: it
	// covers the drift between this host's clock and Redis's, and the
	// time an action already checked takes to reach the engine. Default
	// TTL/5.
	Margin time.Duration
	Logger hclog.Logger
	// OnChange, when set, is told of each transition, from Run's
	// goroutine: active with the generation taken, or standby (gen 0).
	OnChange func(active bool, gen int64)
}

// Lease is this daemon's side of one engine host's lease. Run keeps it;
// Active and Check read it from any goroutine.
type Lease struct {
	opts Options

	mu    sync.Mutex
	gen   int64     // generation held, 0 when standby
	value string    // "<holder>:<gen>" while held
	until time.Time // end of this daemon's view of the lease (monotonic)
	// retryIn is how long the lease another daemon holds has left, as the
	// last try found it.
	retryIn time.Duration
}

// ErrNotHeld is returned by Check when the lease is not this daemon's, or
// not under the generation the work began with.
var ErrNotHeld = errors.New("lease: not held by this daemon")

// ErrVacant comes with ErrNotHeld from Check when Redis holds no lease at
// all for the host: the key went with the data of a Redis restarted
// without persistence, or of a failover, and no other daemon took it.
var ErrVacant = errors.New("lease: vacant in Redis")

// New returns a Lease; nothing happens until Run.
func New(opts Options) *Lease {
	if opts.Margin <= 0 || opts.Margin >= opts.TTL {
		opts.Margin = opts.TTL / 5
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	return &Lease{opts: opts}
}

// TTL is the lease's time to live.
func (l *Lease) TTL() time.Duration { return l.opts.TTL }

// Active reports whether this daemon holds the lease now, and under which
// generation. It is decided from the local clock alone: no Redis round trip.
func (l *Lease) Active() (gen int64, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.gen == 0 || !time.Now().Before(l.until) {
		return 0, false
	}
	return l.gen, true
}

// Check fences one action: it reports nil only if this daemon holds the
// lease under gen both by its own clock and in Redis. The clock check comes
// first and again after the round trip, so that a daemon paused during
// the GET still finds its lease lapsed; the GET catches what the clock
// cannot see — a lease lost in a Redis failover, or deleted by hand.
func (l *Lease) Check(ctx context.Context, gen int64) error {
	held, ok := l.Active()
	if !ok || held != gen {
		return ErrNotHeld
	}
	l.mu.Lock()
	value := l.value
	l.mu.Unlock()
	got, err := l.opts.Client.Get(ctx, Key(l.opts.Host)).Result()
	if errors.Is(err, redis.Nil) {
		got, err = "", nil
	}
	if err != nil {
		return fmt.Errorf("lease: check: %w", err)
	}
	if got == "" {
		return fmt.Errorf("%w: %w", ErrNotHeld, ErrVacant)
	}
	if got != value {
		return fmt.Errorf("%w: the lease names %q", ErrNotHeld, got)
	}
	if held, ok := l.Active(); !ok || held != gen {
		return ErrNotHeld
	}
	return nil
}

// Run acquires the lease, keeps it renewed, and releases it when ctx ends.
// A standby tries to acquire every TTL/3. Redis errors are logged, never
// fatal: the bus decides when Redis is gone for good.
func (l *Lease) Run(ctx context.Context) error {
	period := l.opts.TTL / 3
	defer l.release()
	for {
		wait := period
		if _, ok := l.Active(); ok {
			l.renew(ctx)
		} else {
			l.lapse("the lease lapsed before a renewal was confirmed")
			l.acquire(ctx)
		}
		l.mu.Lock()
		if l.gen != 0 {
			// Wake at the end of the lease at the latest, so that a
			// missed renewal turns this daemon standby on time.
			wait = min(wait, max(time.Until(l.until), 0))
		} else if l.retryIn > 0 {
			wait = min(wait, l.retryIn)
		}
		l.retryIn = 0
		l.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// TryAcquire tries once to take a free lease, before Run: a daemon that
// starts alone is active before its roles hear anything, instead of after
// Run's first turn.
func (l *Lease) TryAcquire(ctx context.Context) bool {
	if _, ok := l.Active(); !ok {
		l.acquire(ctx)
	}
	_, ok := l.Active()
	return ok
}

// Retake takes a vacant lease again at once, under a new generation, and
// returns the generation held after the try: a holder whose lease Redis
// lost is still the only daemon that acted on the engine, and waiting for
// its next renewal to notice would drop the action at hand.
func (l *Lease) Retake(ctx context.Context) (int64, bool) {
	l.acquire(ctx)
	return l.Active()
}

// retrySlack is added to the time a held lease has left before a standby
// tries again: Redis expires a key on access, so a try a millisecond late
// finds it gone.
const retrySlack = 5 * time.Millisecond

// callTimeout bounds one Redis call of the lease: never past the lease.
func (l *Lease) callTimeout() time.Duration { return l.opts.TTL / 3 }

func (l *Lease) acquire(ctx context.Context) {
	ttl := l.opts.TTL.Milliseconds()
	sent := time.Now()
	cctx, cancel := context.WithTimeout(ctx, l.callTimeout())
	defer cancel()
	keys := []string{Key(l.opts.Host), GenKey(l.opts.Host)}
	gen, err := acquireScript.Run(cctx, l.opts.Client, keys, l.opts.Holder, ttl).Int64()
	if err != nil {
		if ctx.Err() == nil {
			l.opts.Logger.Warn("cannot take the lease", "host", l.opts.Host, "error", err)
		}
		return
	}
	if gen <= 0 {
		// Held by another daemon for -gen ms more.
		l.mu.Lock()
		l.retryIn = time.Duration(-gen)*time.Millisecond + retrySlack
		l.mu.Unlock()
		return
	}
	l.mu.Lock()
	l.gen, l.value = gen, l.opts.Holder+":"+strconv.FormatInt(gen, 10)
	l.until = sent.Add(l.opts.TTL - l.opts.Margin)
	l.mu.Unlock()
	l.opts.Logger.Info("lease acquired: this daemon is active", "host", l.opts.Host, "generation", gen, "ttl", l.opts.TTL)
	if l.opts.OnChange != nil {
		l.opts.OnChange(true, gen)
	}
}

func (l *Lease) renew(ctx context.Context) {
	l.mu.Lock()
	value := l.value
	l.mu.Unlock()
	sent := time.Now()
	cctx, cancel := context.WithTimeout(ctx, l.callTimeout())
	defer cancel()
	n, err := renewScript.Run(cctx, l.opts.Client, []string{Key(l.opts.Host)}, value, l.opts.TTL.Milliseconds()).Int64()
	if err != nil {
		// Not lost yet: the lease runs until l.until, and Run wakes then.
		if ctx.Err() == nil {
			l.opts.Logger.Warn("cannot renew the lease; still active until it runs out", "host", l.opts.Host, "error", err)
		}
		return
	}
	if n == 0 {
		l.lapse("the lease is no longer this daemon's in Redis")
		return
	}
	l.mu.Lock()
	if l.value == value {
		l.until = sent.Add(l.opts.TTL - l.opts.Margin)
	}
	l.mu.Unlock()
}

// lapse turns this daemon standby if it held the lease.
func (l *Lease) lapse(why string) {
	l.mu.Lock()
	gen := l.gen
	l.gen, l.value, l.until = 0, "", time.Time{}
	l.mu.Unlock()
	if gen == 0 {
		return
	}
	l.opts.Logger.Warn("lease lost: this daemon is standby", "host", l.opts.Host, "generation", gen, "reason", why)
	if l.opts.OnChange != nil {
		l.opts.OnChange(false, 0)
	}
}

// release gives the lease up on a clean stop, so that a standby takes over
// at its next try instead of after the TTL.
func (l *Lease) release() {
	l.mu.Lock()
	value, gen := l.value, l.gen
	l.gen, l.value, l.until = 0, "", time.Time{}
	l.mu.Unlock()
	if gen == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := releaseScript.Run(ctx, l.opts.Client, []string{Key(l.opts.Host)}, value).Err(); err != nil {
		l.opts.Logger.Warn("cannot release the lease; it runs out by itself", "host", l.opts.Host, "error", err)
	} else {
		l.opts.Logger.Info("lease released", "host", l.opts.Host, "generation", gen)
	}
	if l.opts.OnChange != nil {
		l.opts.OnChange(false, 0)
	}
}
