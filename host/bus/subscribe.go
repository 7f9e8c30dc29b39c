package bus

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/protocol"
)

// healthInterval is how long the subscription may stay silent before the
// bus PINGs through it; a second silent interval means the connection is
// dead even though no error has surfaced (a cut cable sends no RST).
const healthInterval = 10 * time.Second

// dispatchQueue bounds the envelopes waiting for one type's handlers;
// beyond it the bus stops reading until they catch up.
const dispatchQueue = 1024

// Subscribe adds a handler for an event type. Several handlers per type
// are allowed; they run in the order added. Call it before Run; a
// subscription added while Run runs takes effect at once as well.
func (b *Bus) Subscribe(eventType string, h Handler) {
	if err := checkName("event type", eventType); err != nil {
		b.log.Error("subscription ignored", "error", err)
		return
	}
	if h == nil {
		b.log.Error("subscription ignored: nil handler", "type", eventType)
		return
	}
	b.mu.Lock()
	_, known := b.handlers[eventType]
	b.handlers[eventType] = append(b.handlers[eventType], h)
	r := b.run
	var ps *redis.PubSub
	if r != nil && !known {
		r.startDispatcher(b, eventType)
		if b.streaming() {
			r.startReader(b, eventType)
		}
		ps = r.pubsub
	}
	b.mu.Unlock()
	if ps != nil {
		// If this fails the connection is gone, and the next session
		// subscribes to every channel again.
		ps.Subscribe(r.ctx, protocol.Channel(eventType))
	}
}

// runState is what one Run owns.
type runState struct {
	ctx         context.Context
	cancel      context.CancelFunc
	done        chan struct{} // closed when Run has returned
	wg          sync.WaitGroup
	dispatchers map[string]chan queued
	pubsub      *redis.PubSub // the current session's; guarded by Bus.mu
	// recent is what each type received lately, for replays; replayed is
	// what the last replay handed on, so that the same envelope arriving
	// live as well is not handled twice. Both are used only by the session
	// goroutine.
	recent   map[string]*recent
	replayed map[uint64]struct{}
	// lastHeard is when the current session last received anything.
	lastHeard time.Time
	// lastStamp is the timestamp of the envelope of each type received
	// last: a subscriber that was behind when it was cut missed what was
	// published after that, however long before the cut. Used only by
	// the session goroutine, as is tallies.
	lastStamp map[string]string
	tallies   map[string]*tally
	// connected is set once a session got through; before that there is
	// nothing to replay and the tallies start afresh.
	connected bool
	// fatal receives the error of a stream reader that gave up.
	fatal chan error
	// readersDown counts the stream readers that lost Redis.
	downMu      sync.Mutex
	readersDown int
	// audited is when the last audit (see audit.go) began.
	audited time.Time
}

// startDispatcher starts the goroutine that feeds one type's handlers.
// Bus.mu must be held.
func (r *runState) startDispatcher(b *Bus, eventType string) {
	q := make(chan queued, dispatchQueue)
	r.dispatchers[eventType] = q
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for {
			select {
			case <-r.ctx.Done():
				return
			case item := <-q:
				b.mu.Lock()
				hs := b.handlers[eventType]
				b.mu.Unlock()
				ctx := r.ctx
				var d *delivery
				if item.ack != nil {
					d = &delivery{ack: item.ack}
					d.refs.Store(1)
					ctx = context.WithValue(ctx, holdKey{}, d)
				}
				for _, h := range hs {
					b.callHandler(ctx, h, item.env)
				}
				if d != nil {
					d.release()
				}
			}
		}
	}()
}

// queued is an envelope waiting for its type's handlers; ack, when set,
// acknowledges the stream entry it came in once its work is done.
type queued struct {
	env protocol.Envelope
	ack func()
}

// callHandler runs one handler; a panic in it is logged, not spread.
func (b *Bus) callHandler(ctx context.Context, h Handler, env protocol.Envelope) {
	defer func() {
		if v := recover(); v != nil {
			b.log.Error("handler panicked", "type", env.Type, "panic", v, "stack", string(debug.Stack()))
		}
	}()
	h(ctx, env)
}

// Run receives envelopes for the subscribed types and hands them to their
// handlers until ctx ends or Close is called; then it returns nil.
//
// Handlers that fall behind hold up Run itself: it stops reading the
// subscription until their queue has room, so memory stays bounded and
// Redis keeps the rest in the subscriber's output buffer. If Redis then
// cuts the subscription (client-output-buffer-limit pubsub), Run
// reconnects and hands on the missed envelopes from the event logs; those
// already gone from the logs are counted in hemostat_bus_lost_total.
//
// When Redis goes away Run reconnects and re-subscribes: at once after a
// dropped connection, then on a backoff that starts at RetryInitial and
// doubles, probing at least every RetryMaxWait so that it follows a server
// that is back within seconds; after RetryMax backoff steps in a row
// without success it returns a *FatalError.
func (b *Bus) Run(ctx context.Context) error {
	b.closeMu.RLock()
	if b.closed {
		b.closeMu.RUnlock()
		return ErrClosed
	}
	b.mu.Lock()
	if b.run != nil {
		b.mu.Unlock()
		b.closeMu.RUnlock()
		return errors.New("bus: Run is already running")
	}
	ctx, cancel := context.WithCancel(ctx)
	r := &runState{
		ctx: ctx, cancel: cancel, done: make(chan struct{}),
		dispatchers: make(map[string]chan queued), recent: make(map[string]*recent),
		lastStamp: make(map[string]string), tallies: make(map[string]*tally),
		fatal: make(chan error, 1),
	}
	for eventType := range b.handlers {
		r.startDispatcher(b, eventType)
		if b.streaming() {
			r.startReader(b, eventType)
		}
	}
	b.run = r
	b.mu.Unlock()
	b.closeMu.RUnlock()

	defer func() {
		// Unpublished first, so that a Subscribe racing the teardown
		// starts no dispatcher the Wait below would miss.
		b.mu.Lock()
		b.run = nil
		b.mu.Unlock()
		cancel()
		r.wg.Wait()
		close(r.done)
	}()
	if b.streaming() {
		return r.waitReaders()
	}
	return b.connectLoop(r)
}

// errSilent ends a session whose connection stopped answering without an
// error: a stopped server or a cut cable.
var errSilent = errors.New("redis stopped answering")

// outage is the bookkeeping of one loss of the connection.
type outage struct {
	// replayFrom is when the subscription last heard from Redis: a
	// silently dead socket takes up to two health intervals to notice,
	// and the replay must cover that time too.
	replayFrom time.Time
	// began is when the connection is known to have failed, for the log:
	// when the error surfaced, or when Redis last answered if it went
	// silent.
	began time.Time
	// steps counts the backoff steps that ended without a connection;
	// stepEnds is when the current one ends and step is its length.
	steps    int
	step     time.Duration
	stepEnds time.Time
	probes   int // failed reconnect attempts
}

// connectLoop runs sessions, reconnecting with backoff between them.
func (b *Bus) connectLoop(r *runState) error {
	var out *outage // non-nil while disconnected
	for {
		established := false
		err := b.session(r, func() (replayFrom time.Time) {
			established = true
			if out == nil {
				return time.Time{}
			}
			b.metrics.reconnects.Inc()
			b.log.Info("reconnected to redis", "address", b.addr(), "outage", roundDuration(time.Since(out.began)), "tries", out.probes)
			if b.opts.OnConnection != nil {
				b.opts.OnConnection(true, nil)
			}
			replayFrom, out = out.replayFrom, nil
			return replayFrom
		})
		if r.ctx.Err() != nil {
			return nil
		}
		if cc, ok := b.client.(*redis.ClusterClient); ok {
			// A Cluster client subscribes on the node its cached slot map
			// names; after a failover that is a dead master until the map
			// is read again.
			cc.ReloadState(r.ctx)
		}
		now := time.Now()
		var wait time.Duration
		if established || out == nil {
			out = &outage{replayFrom: now, began: now, step: b.opts.RetryInitial, stepEnds: now.Add(b.opts.RetryInitial)}
			if !r.lastHeard.IsZero() && r.lastHeard.Before(now) {
				out.replayFrom = r.lastHeard
				if errors.Is(err, errSilent) {
					out.began = r.lastHeard
				}
			}
			if !established {
				wait = min(b.opts.RetryInitial, b.opts.RetryMaxWait)
			}
			// A connection that worked is tried again at once: a cut by
			// the server (a client kill, an output-buffer limit) is over
			// as soon as it happened, and every second away is missed.
			b.log.Warn("redis connection failed; reconnecting", "address", b.addr(), "error", err, "next_try_in", wait)
			if b.opts.OnConnection != nil {
				b.opts.OnConnection(false, err)
			}
		} else {
			out.probes++
			if !now.Before(out.stepEnds) {
				out.steps++
				if out.steps >= b.opts.RetryMax {
					return &FatalError{Addr: b.addr(), Tries: out.steps, Elapsed: now.Sub(out.began), Err: err}
				}
				out.step *= 2
				out.stepEnds = out.stepEnds.Add(out.step)
				b.log.Warn("reconnect to redis failed", "address", b.addr(), "try", out.steps, "of", b.opts.RetryMax,
					"error", err, "probing_every", min(out.step, b.opts.RetryMaxWait), "gives_up_in", roundDuration(b.giveUpIn(out)))
			} else {
				b.log.Debug("reconnect to redis failed", "address", b.addr(), "error", err)
			}
			wait = min(max(time.Until(out.stepEnds), 0), b.opts.RetryMaxWait)
		}
		timer := time.NewTimer(wait)
		select {
		case <-r.ctx.Done():
			timer.Stop()
			return nil
		case <-timer.C:
		}
	}
}

// giveUpIn is how long the backoff has left before Run gives up.
func (b *Bus) giveUpIn(out *outage) time.Duration {
	end, step := out.stepEnds, out.step
	for i := out.steps + 1; i < b.opts.RetryMax; i++ {
		step *= 2
		end = end.Add(step)
	}
	return time.Until(end)
}

// session subscribes to every channel with a handler and receives until
// the connection fails or ctx ends. It calls up once the server has
// answered, i.e. the subscriptions are in place; when up reports that an
// outage ended, what was published meanwhile is replayed from the logs.
func (b *Bus) session(r *runState, up func() time.Time) error {
	ps := b.client.Subscribe(r.ctx)
	defer ps.Close()
	// A read blocked on the socket does not watch ctx; closing does.
	stop := context.AfterFunc(r.ctx, func() { ps.Close() })
	defer stop()

	b.mu.Lock()
	channels := make([]string, 0, len(b.handlers))
	for eventType := range b.handlers {
		channels = append(channels, protocol.Channel(eventType))
	}
	r.pubsub = ps
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		r.pubsub = nil
		b.mu.Unlock()
	}()

	if !r.connected {
		// Before subscribing: whatever the logs take in from here on
		// either reaches this subscription or is missed by it.
		b.startTallies(r)
	}
	if len(channels) > 0 {
		if err := ps.Subscribe(r.ctx, channels...); err != nil {
			return err
		}
	}
	// The PONG comes after the subscription confirmations: once it is in,
	// the subscriptions are too. With no channels it proves the
	// connection, so Run still notices when Redis goes away.
	if err := ps.Ping(r.ctx); err != nil {
		return err
	}
	for {
		msg, err := ps.ReceiveTimeout(r.ctx, healthInterval)
		if err != nil {
			return err
		}
		if _, ok := msg.(*redis.Pong); ok {
			break
		}
	}
	r.lastHeard = time.Now()
	r.connected = true
	if replayFrom := up(); !replayFrom.IsZero() {
		b.replay(r, replayFrom)
	}

	r.audited = time.Now()
	pinged := false
	for {
		msg, err := ps.ReceiveTimeout(r.ctx, healthInterval)
		if err != nil {
			if !isTimeout(err) || r.ctx.Err() != nil {
				return err
			}
			if pinged {
				return fmt.Errorf("%w: no answer to PING within %s", errSilent, healthInterval)
			}
			// Quiet: whatever was published has arrived, so the counts
			// can be compared (audit.go).
			b.audit(r)
			if err := ps.Ping(r.ctx); err != nil {
				return err
			}
			pinged = true
			continue
		}
		pinged = false
		r.lastHeard = time.Now()
		if m, ok := msg.(*redis.Message); ok {
			b.receive(r, m)
		}
	}
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// receive decodes one message and queues it for its type's handlers.
func (b *Bus) receive(r *runState, m *redis.Message) {
	eventType := strings.TrimPrefix(m.Channel, protocol.Prefix)
	b.metrics.received.WithLabelValues(eventType).Inc()
	var (
		env protocol.Envelope
		err error
	)
	if len(m.Payload) > protocol.MaxMessageBytes {
		// Checked before DecodeEnvelope to spare copying the payload.
		err = &protocol.InvalidError{Reason: protocol.ErrTooLarge, Detail: fmt.Sprintf("%d bytes, limit %d", len(m.Payload), protocol.MaxMessageBytes)}
	} else {
		env, err = protocol.DecodeEnvelope([]byte(m.Payload), eventType)
	}
	if err != nil {
		b.rejectMessage(eventType, len(m.Payload), err)
		return
	}
	if r.takeReplayed(eventType, m.Payload) {
		return // already handed on by the replay that just ran
	}
	b.deliver(r, eventType, m.Payload, env)
}

// deliver queues an envelope for its type's handlers and remembers it.
// When the queue is full it waits: the subscription is not read meanwhile,
// which is the back-pressure that keeps a burst from filling memory.
func (b *Bus) deliver(r *runState, eventType, payload string, env protocol.Envelope) {
	r.remember(eventType, payload)
	r.lastStamp[eventType] = env.Timestamp
	if t := r.tallies[eventType]; t != nil {
		t.received++
	}
	b.mu.Lock()
	q := r.dispatchers[eventType]
	b.mu.Unlock()
	if q == nil {
		return // a channel subscribed by a late Subscribe of a Run gone by
	}
	select {
	case q <- queued{env: env}:
	case <-r.ctx.Done():
	}
}

// maxDetail bounds the part of a decode error that is logged: the error
// can quote a value taken from the message.
const maxDetail = 200

// rejectMessage logs and counts an invalid message, without its payload.
func (b *Bus) rejectMessage(eventType string, size int, err error) {
	reason := reasonLabel(err)
	b.invalid.Add(1)
	b.metrics.invalid.WithLabelValues(eventType, reason).Inc()
	if ok, suppressed := b.warnLimit.allow(time.Now()); ok {
		detail := err.Error()
		if len(detail) > maxDetail {
			detail = detail[:maxDetail] + "…"
		}
		b.log.Warn("invalid message skipped", "channel", protocol.Channel(eventType), "reason", reason, "bytes", size, "error", detail, "similar_warnings_suppressed", suppressed)
	}
}
