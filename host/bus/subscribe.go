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

// dispatchQueue bounds the envelopes waiting for one type's handlers.
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
	dispatchers map[string]chan protocol.Envelope
	pubsub      *redis.PubSub // the current session's; guarded by Bus.mu
	// recent is what each type received lately, for replays; replayed is
	// what the last replay handed on, so that the same envelope arriving
	// live as well is not handled twice. Both are used only by the session
	// goroutine.
	recent   map[string]*recent
	replayed map[uint64]struct{}
	// lastHeard is when the current session last received anything.
	lastHeard time.Time
}

// startDispatcher starts the goroutine that feeds one type's handlers.
// Bus.mu must be held.
func (r *runState) startDispatcher(b *Bus, eventType string) {
	q := make(chan protocol.Envelope, dispatchQueue)
	r.dispatchers[eventType] = q
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for {
			select {
			case <-r.ctx.Done():
				return
			case env := <-q:
				b.mu.Lock()
				hs := b.handlers[eventType]
				b.mu.Unlock()
				for _, h := range hs {
					b.callHandler(r.ctx, h, env)
				}
			}
		}
	}()
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
// handlers until ctx ends or Close is called; then it returns nil. When
// Redis goes away it reconnects and re-subscribes, waiting RetryInitial
// before the first try and twice as long before each next one; after
// RetryMax failed tries in a row it returns a *FatalError.
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
		dispatchers: make(map[string]chan protocol.Envelope), recent: make(map[string]*recent),
	}
	for eventType := range b.handlers {
		r.startDispatcher(b, eventType)
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
	return b.connectLoop(r)
}

// connectLoop runs sessions, reconnecting with backoff between them.
func (b *Bus) connectLoop(r *runState) error {
	var (
		lostAt time.Time // when the current outage began; zero when connected
		tries  int       // failed reconnect tries in the current outage
		wait   time.Duration
	)
	for {
		established := false
		err := b.session(r, func() (outageBegan time.Time) {
			established = true
			if !lostAt.IsZero() {
				b.metrics.reconnects.Inc()
				b.log.Info("reconnected to redis", "address", b.addr(), "outage", roundDuration(time.Since(lostAt)), "tries", tries)
			}
			outageBegan = lostAt
			lostAt, tries = time.Time{}, 0
			return outageBegan
		})
		if r.ctx.Err() != nil {
			return nil
		}
		switch {
		case established || lostAt.IsZero():
			// The outage began when the subscription last heard from
			// Redis, not when the loss was noticed: a silently dead
			// socket takes up to two health intervals to notice, and the
			// replay must cover that time too.
			lostAt, tries, wait = time.Now(), 0, b.opts.RetryInitial
			if !r.lastHeard.IsZero() && r.lastHeard.Before(lostAt) {
				lostAt = r.lastHeard
			}
			b.log.Warn("redis connection failed; reconnecting", "address", b.addr(), "error", err, "next_try_in", wait)
		default:
			tries++
			if tries >= b.opts.RetryMax {
				return &FatalError{Addr: b.addr(), Tries: tries, Elapsed: time.Since(lostAt), Err: err}
			}
			wait *= 2
			b.log.Warn("reconnect to redis failed", "address", b.addr(), "try", tries, "of", b.opts.RetryMax, "error", err, "next_try_in", wait)
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
	if outageBegan := up(); !outageBegan.IsZero() {
		b.replay(r, outageBegan.Add(-replaySkew))
	}

	pinged := false
	for {
		msg, err := ps.ReceiveTimeout(r.ctx, healthInterval)
		if err != nil {
			if !isTimeout(err) || r.ctx.Err() != nil {
				return err
			}
			if pinged {
				return fmt.Errorf("no answer to PING within %s", healthInterval)
			}
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
func (b *Bus) deliver(r *runState, eventType, payload string, env protocol.Envelope) {
	r.remember(eventType, payload)
	b.mu.Lock()
	q := r.dispatchers[eventType]
	b.mu.Unlock()
	if q == nil {
		return // a channel subscribed by a late Subscribe of a Run gone by
	}
	select {
	case q <- env:
	default:
		b.metrics.dropped.WithLabelValues(eventType).Inc()
		if ok, suppressed := b.warnLimit.allow(time.Now()); ok {
			b.log.Error("handlers fall behind; envelope dropped", "type", eventType, "queue", dispatchQueue, "similar_warnings_suppressed", suppressed)
		}
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
