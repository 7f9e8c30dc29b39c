package bus

import (
	"context"
	"encoding/json"
	"hash/fnv"
	"time"

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

func payloadHash(payload string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(payload))
	return h.Sum64()
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
	key := payloadHash(eventType + "\x00" + payload)
	if _, ok := rs.replayed[key]; ok {
		delete(rs.replayed, key)
		return true
	}
	return false
}

// replay hands on the envelopes of every subscribed type's event log that
// were published at or after since and were not received. It runs on the
// session goroutine once the subscriptions are back, so an envelope
// published meanwhile is either in the log or arrives live, and the
// recent set keeps it from coming twice.
func (b *Bus) replay(r *runState, since time.Time) {
	b.mu.Lock()
	types := make([]string, 0, len(b.handlers))
	for eventType := range b.handlers {
		types = append(types, eventType)
	}
	b.mu.Unlock()
	total := 0
	r.replayed = make(map[uint64]struct{})
	for _, eventType := range types {
		ctx, cancel := context.WithTimeout(r.ctx, 5*time.Second)
		raw, err := b.client.Get(ctx, protocol.EventLogKey(eventType)).Result()
		cancel()
		if err != nil {
			continue // no log (a restarted Redis) or unreadable: nothing to replay
		}
		var log []json.RawMessage
		if json.Unmarshal([]byte(raw), &log) != nil {
			continue
		}
		for _, entry := range log {
			payload := string(entry)
			if r.received(eventType, payload) {
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
			total++
		}
	}
	if total > 0 {
		b.metrics.replayed.Add(float64(total))
		b.log.Info("replayed envelopes published while disconnected", "count", total, "since", since.Format(time.RFC3339Nano))
	}
}
