package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/protocol"
)

// Durable delivery. Pub/sub keeps nothing for a subscriber that is away, and
// the event log keeps only the newest 100 envelopes of a type. With
// DeliveryStreams every envelope is still PUBLISHed and logged as the
// protocol says, and also appended to a capped stream per type, which
// hemostatd's roles read through a consumer group: an entry stays pending
// until its work is done and acknowledged, so a role that was away, or a
// hemostatd that died, finds it again.

// Delivery modes, as the redis block's delivery setting names them.
const (
	DeliveryPubSub  = "pubsub"
	DeliveryStreams = "streams"
)

// StreamMaxLen caps each stream (MAXLEN ~, so Redis trims whole nodes).
const StreamMaxLen = 10000

// StreamGroup is the consumer group hemostatd reads every stream with.
const StreamGroup = "hemostatd"

// FleetGroup is the consumer group of one host's daemons in a fleet.
func FleetGroup(host string) string { return StreamGroup + ":" + host }

// StreamField is the one field of a stream entry: the envelope exactly as
// it was published.
const StreamField = "envelope"

// StreamKey is the stream of an event type: hemostat:stream:<type>.
func StreamKey(eventType string) string { return protocol.Prefix + "stream:" + eventType }

// ErrNotAppended marks an envelope that was published but could not be
// appended to its stream: pub/sub subscribers got it, stream readers will
// not. Publishing it again would reach the subscribers twice.
var ErrNotAppended = errors.New("published but not appended to the stream")

// streaming reports whether the bus delivers through streams.
func (b *Bus) streaming() bool { return b.opts.Delivery == DeliveryStreams }

// publishStreamed PUBLISHes raw and XADDs it to its type's stream in one
// round trip. It is the caller of Publish that sees Publish return, so the
// append is made here rather than by the batched event-log writer: once
// Publish returns, the envelope is in the stream, whatever befalls
// hemostatd next.
func (b *Bus) publishStreamed(ctx context.Context, eventType string, raw []byte) error {
	var pub *redis.IntCmd
	var add *redis.StringCmd
	_, err := b.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		pub = p.Publish(ctx, protocol.Channel(eventType), raw)
		add = p.XAdd(ctx, &redis.XAddArgs{
			Stream: StreamKey(eventType), MaxLen: StreamMaxLen, Approx: true,
			Values: []any{StreamField, raw},
		})
		return nil
	})
	if err == nil {
		return nil
	}
	if pub.Err() != nil {
		return fmt.Errorf("bus: publish %s to redis at %s: %w: %w", eventType, b.addr(), ErrNotDelivered, pub.Err())
	}
	b.metrics.streamErrors.WithLabelValues(eventType).Inc()
	return fmt.Errorf("bus: append %s to %s: %w: %w", eventType, StreamKey(eventType), ErrNotAppended, add.Err())
}

// requestTTL is how long a request stays recorded as taken: far longer
// than any entry stays pending before it is claimed.
const requestTTL = 24 * time.Hour

// Streaming reports whether envelopes are delivered through streams, where
// an envelope may be delivered more than once (a claim, a restart) and
// actions must be made idempotent.
func (b *Bus) Streaming() bool { return b.streaming() }

// TakeRequest records request id as taken (SET NX, kept for a day) and
// reports whether this call took it: false means it was taken before, by
// this hemostatd or another, and must not be acted on again.
func (b *Bus) TakeRequest(ctx context.Context, id string) (bool, error) {
	ok, err := b.client.SetNX(ctx, protocol.RequestKey(id), time.Now().UTC().Format(time.RFC3339Nano), requestTTL).Result()
	if err != nil {
		return false, fmt.Errorf("bus: take request %s at %s: %w", id, b.addr(), err)
	}
	return ok, nil
}
