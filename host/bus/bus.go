package bus

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/protocol"
)

// Handler receives one valid envelope. Handlers of one event type run one
// after another on that type's own goroutine; ctx ends when Run does.
type Handler func(ctx context.Context, env protocol.Envelope)

// Options tune a Bus; the zero value of each field means its default.
type Options struct {
	Logger hclog.Logger
	// FlushInterval is how long an event-log append may wait to be
	// written together with others. Default 2ms.
	FlushInterval time.Duration
	// MaxBatch writes a type's queued appends at once when this many are
	// waiting. Default 256.
	MaxBatch int
	// RetryInitial is the wait before the first reconnect try; it doubles
	// with each failed try. Default 1s.
	RetryInitial time.Duration
	// RetryMax is how many backoff steps fail before Run gives up.
	// Default 10.
	RetryMax int
	// RetryMaxWait caps the wait between two reconnect tries, so that a
	// long backoff step still notices a server that is back. It does not
	// shorten the time before Run gives up. Default 2s.
	RetryMaxWait time.Duration
	// Registerer, if set, receives the bus's metrics.
	Registerer prometheus.Registerer
	// OnConnection, when set, is told when Run loses its connection to
	// Redis (up false, with the error) and when it has one again (up
	// true). Run waits for it: with pub/sub, the envelopes heard on the
	// new connection (and the replay of what it missed) are handed on
	// only after it returns, so it may make a short Redis call first, and
	// must not block longer.
	OnConnection func(up bool, err error)
	// Delivery is DeliveryPubSub (the default) or DeliveryStreams: then
	// Publish also appends to the type's stream, and Run reads the streams
	// through the consumer group StreamGroup instead of subscribing.
	Delivery string
	// Consumer names this bus in the consumer group; a hemostatd that
	// comes back under the same name takes up its own pending entries at
	// once. Default: the host name.
	Consumer string
	// ClaimMinIdle is how long an entry stays pending with another
	// consumer before this one claims it. Default 3m.
	ClaimMinIdle time.Duration
	// Group is the consumer group the streams are read with. Default
	// StreamGroup; a fleet gives each host its own (FleetGroup), so that
	// every host reads every entry and keeps its own hosts' work, instead
	// of one group handing a host's alerts to another host's daemon.
	Group string
	// Host, when set, is written into the data of every envelope
	// published as data.host (an extension field), unless the data names
	// a host already: it says which Docker host's daemon published it.
	Host string
	// ReadWhile, when set, pauses the stream readers while it reports
	// false: a standby daemon leaves the consumer group's entries to the
	// active one, which is then the group's only reader. Pub/sub delivery
	// ignores it (every subscriber hears everything anyway).
	ReadWhile func() bool
}

// Defaults, as the protocol's "On Connection Loss" section asks.
const (
	DefaultFlushInterval = 2 * time.Millisecond
	DefaultMaxBatch      = 256
	DefaultRetryInitial  = time.Second
	DefaultRetryMax      = 10
	DefaultRetryMaxWait  = 2 * time.Second
	DefaultClaimMinIdle  = 3 * time.Minute
)

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = DefaultFlushInterval
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = DefaultMaxBatch
	}
	if o.RetryInitial <= 0 {
		o.RetryInitial = DefaultRetryInitial
	}
	if o.RetryMax <= 0 {
		o.RetryMax = DefaultRetryMax
	}
	if o.RetryMaxWait <= 0 {
		o.RetryMaxWait = DefaultRetryMaxWait
	}
	if o.Delivery == "" {
		o.Delivery = DeliveryPubSub
	}
	if o.Consumer == "" {
		o.Consumer, _ = os.Hostname()
		if o.Consumer == "" {
			o.Consumer = "hemostatd"
		}
	}
	if o.ClaimMinIdle <= 0 {
		o.ClaimMinIdle = DefaultClaimMinIdle
	}
	if o.Group == "" {
		o.Group = StreamGroup
	}
	return o
}

// Bus publishes and receives HemoStat envelopes and reads and writes the
// protocol's keys. Its methods are safe for concurrent use.
//
// The event-log flusher starts with the first Publish, so a Bus that only
// publishes needs no Run; Close stops it after writing what is queued, so
// every Bus must be closed.
type Bus struct {
	client  redis.UniversalClient
	opts    Options
	log     hclog.Logger
	metrics *metrics
	events  *eventLog
	joiner  joiner
	acks    *acker // nil unless delivering through streams
	invalid atomic.Uint64
	// warnLimit limits warnings about invalid messages, which a broken
	// or hostile publisher can send by the thousand.
	warnLimit logLimiter

	// closeMu orders Close after every Publish in flight, so that no
	// append is queued once the final flush has begun.
	closeMu sync.RWMutex
	closed  bool

	mu       sync.Mutex
	handlers map[string][]Handler
	run      *runState // non-nil while Run runs
}

// New returns a Bus on client. The caller keeps ownership of client and
// closes it after closing the Bus.
func New(client redis.UniversalClient, opts Options) *Bus {
	opts = opts.withDefaults()
	m := newMetrics(opts.Registerer)
	log := opts.Logger.Named("bus")
	b := &Bus{
		client:   client,
		opts:     opts,
		log:      log,
		metrics:  m,
		events:   newEventLog(client, opts, log, m),
		handlers: make(map[string][]Handler),
	}
	b.joiner.client = client
	if b.streaming() {
		b.acks = newAcker(client, opts.Group, log, m)
	}
	return b
}

// Ping checks that Redis answers.
func (b *Bus) Ping(ctx context.Context) error {
	if err := b.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("ping redis at %s: %w", b.addr(), err)
	}
	return nil
}

// Flush writes the queued event-log appends now.
func (b *Bus) Flush(ctx context.Context) error {
	return b.events.flush(ctx)
}

// Close stops Run, if running, and writes the queued event-log appends,
// retrying until they are written or ctx ends. It does not close the
// Redis client. Later calls do nothing.
func (b *Bus) Close(ctx context.Context) error {
	b.closeMu.Lock()
	already := b.closed
	b.closed = true
	b.closeMu.Unlock()
	if already {
		return nil
	}
	b.mu.Lock()
	r := b.run
	b.mu.Unlock()
	if r != nil {
		r.cancel()
		select {
		case <-r.done:
		case <-ctx.Done():
			return fmt.Errorf("bus: close: Run did not stop: %w", ctx.Err())
		}
	}
	err := b.events.close(ctx)
	if b.acks != nil {
		err = errors.Join(err, b.acks.close(ctx))
	}
	return err
}

// Invalid is how many received messages were skipped as invalid so far.
func (b *Bus) Invalid() uint64 { return b.invalid.Load() }

// addr describes where Redis is, for messages.
func (b *Bus) addr() string {
	switch c := b.client.(type) {
	case *redis.Client:
		if a := c.Options().Addr; a != "FailoverClient" {
			return a
		}
		return "the master named by the Sentinels"
	case *redis.ClusterClient:
		return strings.Join(c.Options().Addrs, ",")
	}
	return "the configured address"
}

// checkName rejects event types and key parts that would break channel or
// key names: empty, glob characters that SUBSCRIBE patterns and KEYS would
// read, braces that would move a key to another Cluster slot, and spaces
// or control characters that make names unreadable in redis-cli.
func checkName(what, s string) error {
	if s == "" {
		return fmt.Errorf("bus: %s is empty", what)
	}
	if i := strings.IndexFunc(s, func(r rune) bool {
		return r <= ' ' || r == 0x7f || strings.ContainsRune("*?[]{}", r)
	}); i >= 0 {
		return fmt.Errorf("bus: %s %q contains %q", what, s, s[i])
	}
	return nil
}
