package bus

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/protocol"
)

// Pub/sub keeps nothing for a subscriber that is away: an envelope another
// agent publishes while the bus reconnects never reaches it. Every envelope
// also lands in its type's event log, so after a reconnect the bus reads
// each subscribed type's log and hands on the envelopes published since the
// outage began that it has not received yet. A Redis that restarted lost
// its logs with its data; then there is nothing to replay.

// replaySkew widens the replay window for publishers whose clocks run a
// little behind, and for the time between a connection's loss and the bus
// noticing it. Envelopes already received are recognised, so a wide
// window does not deliver anything twice.
const replaySkew = 2 * time.Second

// recentSize is how many received envelopes per type the bus remembers
// for recognising them in a replay: the event log's length, twice over.
const recentSize = 2 * protocol.EventLogMax

// recent remembers the hashes of the envelopes last received for one type.
type recent struct {
	ring [recentSize]uint64
	next int
	set  map[uint64]int // hash → how many times it is in ring
}

func newRecent() *recent { return &recent{set: make(map[uint64]int, recentSize)} }

// payloadHash is FNV-1a, written out so that hashing a string received
// copies nothing: it runs for every envelope.
func payloadHash(payload string) uint64 {
	return fnvString(fnvOffset, payload)
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func fnvString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

// add remembers a payload, forgetting the oldest when full.
func (r *recent) add(payload string) {
	h := payloadHash(payload)
	if old := r.ring[r.next]; r.set[old] > 0 {
		if r.set[old]--; r.set[old] == 0 {
			delete(r.set, old)
		}
	}
	r.ring[r.next] = h
	r.next = (r.next + 1) % recentSize
	r.set[h]++
}

func (r *recent) has(payload string) bool { return r.set[payloadHash(payload)] > 0 }

// remember notes a received payload; it runs on the session goroutine.
func (rs *runState) remember(eventType, payload string) {
	r, ok := rs.recent[eventType]
	if !ok {
		r = newRecent()
		rs.recent[eventType] = r
	}
	r.add(payload)
}

func (rs *runState) received(eventType, payload string) bool {
	r, ok := rs.recent[eventType]
	return ok && r.has(payload)
}

// takeReplayed reports whether the last replay handed on payload, and
// forgets it: a live copy is dropped once, a later identical publish is not.
func (rs *runState) takeReplayed(eventType, payload string) bool {
	if len(rs.replayed) == 0 {
		return false // no replay ran lately: the usual case, and cheap
	}
	key := payloadHash(eventType + "\x00" + payload)
	if _, ok := rs.replayed[key]; ok {
		delete(rs.replayed, key)
		return true
	}
	return false
}

// tally compares, for one type, what the event log took in with what the
// subscription received since a point both agree on, to count what Redis
// dropped (a subscription cut for its output buffer, a long outage) that
// the log no longer holds either.
type tally struct {
	base     int64 // the log's append count at that point
	received int64 // envelopes handed on since
}

// startTallies reads each type's append count as the session begins.
func (b *Bus) startTallies(r *runState) {
	for _, eventType := range b.subscribedTypes() {
		ctx, cancel := context.WithTimeout(r.ctx, 5*time.Second)
		n, err := b.client.Get(ctx, eventCountKey(eventType)).Int64()
		cancel()
		switch {
		case err == nil:
			r.tallies[eventType] = &tally{base: n}
		case errors.Is(err, redis.Nil):
			r.tallies[eventType] = &tally{}
		default:
			delete(r.tallies, eventType) // unknown: nothing is counted
		}
	}
}

func (b *Bus) subscribedTypes() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	types := make([]string, 0, len(b.handlers))
	for eventType := range b.handlers {
		types = append(types, eventType)
	}
	return types
}

// readLog reads a type's event log and its append count in one round trip,
// so that the count describes exactly the log read.
func (b *Bus) readLog(ctx context.Context, eventType string) ([]json.RawMessage, int64, bool, error) {
	var logCmd *redis.StringCmd
	var countCmd *redis.StringCmd
	_, err := b.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		logCmd = p.Get(ctx, protocol.EventLogKey(eventType))
		countCmd = p.Get(ctx, eventCountKey(eventType))
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, 0, false, err
	}
	count, err := countCmd.Int64()
	counted := err == nil
	raw, err := logCmd.Result()
	if err != nil {
		return nil, count, counted, nil // no log: a restarted Redis, or nothing published yet
	}
	var entries []json.RawMessage
	if json.Unmarshal([]byte(raw), &entries) != nil {
		return nil, count, counted, nil
	}
	return entries, count, counted, nil
}

// replay hands on the envelopes of every subscribed type's event log that
// were published since the subscription last heard from Redis (or since
// the last envelope it received, when it was behind) and were not
// received; then it counts what is gone from the logs as lost. It runs on
// the session goroutine once the subscriptions are back, so an envelope
// published meanwhile is either in the log or arrives live, and the
// recent set keeps it from coming twice.
func (b *Bus) replay(r *runState, lastHeard time.Time) {
	total := 0
	r.replayed = make(map[uint64]struct{})
	for _, eventType := range b.subscribedTypes() {
		log, err := b.replayType(r, eventType, lastHeard)
		if err != nil {
			b.log.Warn("cannot read the event log to replay it", "type", eventType, "error", err)
			delete(r.tallies, eventType)
			continue
		}
		total += log.delivered
		b.countLost(r, eventType, log.entries, log.overlap, log.count, log.counted)
	}
	if total > 0 {
		b.metrics.replayed.Add(float64(total))
		b.log.Info("replayed envelopes published while disconnected", "count", total, "since", lastHeard.Format(time.RFC3339Nano))
	}
}

// replayed describes one type's replay from its event log.
type replayedLog struct {
	entries   int   // envelopes in the log
	count     int64 // the log's append count, when counted
	counted   bool
	overlap   bool // the log still holds something received before
	delivered int  // envelopes handed on
}

// replayType hands on the envelopes of one type's event log published
// since the given time (or the last one received of the type, if earlier)
// that were not received.
func (b *Bus) replayType(r *runState, eventType string, since time.Time) (replayedLog, error) {
	if t, err := protocol.ParseTimestamp(r.lastStamp[eventType]); err == nil && t.Before(since) {
		since = t
	}
	since = since.Add(-replaySkew)

	ctx, cancel := context.WithTimeout(r.ctx, 5*time.Second)
	entries, count, counted, err := b.readLog(ctx, eventType)
	cancel()
	if err != nil {
		return replayedLog{}, err
	}
	log := replayedLog{entries: len(entries), count: count, counted: counted}
	for _, entry := range entries {
		payload := string(entry)
		if r.received(eventType, payload) {
			log.overlap = true
			continue
		}
		env, err := protocol.DecodeEnvelope(entry, eventType)
		if err != nil {
			continue // it was rejected, or would be, when published
		}
		if t, err := env.Time(); err != nil || t.Before(since) {
			continue
		}
		b.deliver(r, eventType, payload, env)
		r.replayed[payloadHash(eventType+"\x00"+payload)] = struct{}{}
		log.delivered++
	}
	return log, nil
}

// countLost counts, once, the envelopes the log took in while the
// subscription was cut that neither reached it nor are in the log any
// more. Only a full log that shares nothing with what was received can
// have lost any; the count is then what the log took in since the tally
// began less what was handed on. An envelope published without being
// logged cannot be counted (nor replayed).
func (b *Bus) countLost(r *runState, eventType string, logLen int, overlap bool, count int64, counted bool) {
	t := r.tallies[eventType]
	if !counted {
		delete(r.tallies, eventType)
		return
	}
	r.tallies[eventType] = &tally{base: count}
	if t == nil || overlap || logLen < protocol.EventLogMax || count < t.base {
		return // nothing fell out of the log, or the count restarted with Redis
	}
	lost := count - t.base - t.received
	if lost <= 0 {
		return
	}
	b.metrics.lost.WithLabelValues(eventType).Add(float64(lost))
	b.log.Error("envelopes lost: Redis dropped them from the subscription and they are gone from the event log",
		"type", eventType, "count", lost, "log", protocol.EventLogKey(eventType))
}
