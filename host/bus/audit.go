package bus

import (
	"context"
	"time"
)

// A subscription can miss envelopes without ever being cut: on a Redis
// Cluster, a master that dies right after accepting a PUBLISH takes the
// message with it before the cluster bus carried it to the node this
// subscription reads from, and the publisher was told it went out. The
// event log (on its own slot's master) and its append count still know.
// So whenever the subscription has been quiet for a health interval —
// nothing is in flight, everything published has arrived — the bus
// compares each type's append count with what it received: a gap is
// replayed from the log, and what the log no longer holds is counted lost.

// audit compares, for every type with a tally, the log's append count with
// what the subscription received, and replays the difference.
func (b *Bus) audit(r *runState) {
	if !r.connected {
		return
	}
	since := r.audited
	r.audited = time.Now()
	for _, eventType := range b.subscribedTypes() {
		t := r.tallies[eventType]
		if t == nil {
			continue
		}
		ctx, cancel := context.WithTimeout(r.ctx, 5*time.Second)
		count, err := b.client.Get(ctx, eventCountKey(eventType)).Int64()
		cancel()
		if err != nil {
			// Nothing logged yet, or unreadable now: the next audit or
			// session will know better.
			continue
		}
		if count < t.base {
			// The count restarted (a Redis that lost its data): begin anew.
			r.tallies[eventType] = &tally{base: count}
			continue
		}
		gap := count - t.base - t.received
		if gap <= 0 {
			continue
		}
		if r.replayed == nil {
			r.replayed = make(map[uint64]struct{})
		}
		log, err := b.replayType(r, eventType, since)
		if err != nil {
			b.log.Warn("cannot read the event log to replay what the subscription missed", "type", eventType, "error", err)
			continue
		}
		if log.delivered > 0 {
			b.metrics.replayed.Add(float64(log.delivered))
			b.log.Warn("replayed envelopes the subscription missed without being cut (a Redis node failed?)",
				"type", eventType, "count", log.delivered)
		}
		if lost := gap - int64(log.delivered); lost > 0 {
			b.metrics.lost.WithLabelValues(eventType).Add(float64(lost))
			b.log.Error("envelopes lost: published and logged, but they never reached the subscription and the event log no longer holds them",
				"type", eventType, "count", lost)
		}
		// Everything up to count is now received, replayed or counted.
		r.tallies[eventType] = &tally{base: count}
	}
}
