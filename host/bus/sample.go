package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/sdk"
)

// RecordSample stores one sample in one round trip: its stats key, when
// stats is not nil, and its place in the capped history. The monitor
// writes both for every sample; one round trip instead of two halves
// what each sample costs Redis and the monitor's loop. A destroy's
// sample deletes the container's stats key instead: whoever lists the
// containers by their stats keys (hemostatd status, dashboards of the
// protocol) would otherwise show the container as it last ran for the
// key's TTL after it is gone.
func (b *Bus) RecordSample(ctx context.Context, stats *protocol.Stats, s sdk.Sample) error {
	if b.cluster() {
		// The two keys hash to different slots: two transactions.
		var err error
		switch {
		case stats != nil:
			err = b.SetStats(ctx, *stats)
		case s.Event == sdk.EventDestroy && checkName("container name", s.Container) == nil:
			err = b.client.Del(ctx, protocol.StatsKey(s.Container)).Err()
		}
		return errors.Join(err, b.AppendSample(ctx, s))
	}
	w, err := sampleWrites(stats, s)
	if err != nil {
		return err
	}
	_, err = b.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		w.queue(ctx, p)
		return nil
	})
	if err != nil {
		return fmt.Errorf("bus: store sample of %s: %w", s.Container, err)
	}
	return nil
}

// RecordSampleAndPublish stores one sample as RecordSample does and then
// publishes an envelope — the health_alert the sample raised — in the
// same round trip: one MULTI/EXEC holding the writes, then the PUBLISH.
// A subscriber that reads the history on receipt finds the sample in it,
// as before, and the alert no longer waits for the writes' own round
// trips. Where one transaction cannot hold them — a Redis Cluster keeps
// the two keys apart, durable delivery publishes to a stream too — the
// writes go first and the envelope after them, as Publish does.
//
// writeErr is the writes' failure; pubErr the publish's, which wraps
// ErrNotDelivered when subscribers did not get the envelope.
func (b *Bus) RecordSampleAndPublish(ctx context.Context, stats *protocol.Stats, s sdk.Sample, agent, eventType string, data any) (writeErr, pubErr error) {
	_, writeErr, pubErr = b.RecordSamplePublishAndRead(ctx, stats, s, agent, eventType, data, 0)
	return writeErr, pubErr
}

// Prefetched is what RecordSamplePublishAndRead read for the subscriber
// that will judge the envelope it published: the container's last
// samples, the one just written included, and its remediations — what
// HistoryAndRemediations would return — and the envelope's request ID, by
// which the subscriber finds them.
type Prefetched struct {
	RequestID    string
	History      []sdk.Sample
	Remediations []sdk.Remediation
}

// RecordSamplePublishAndRead is RecordSampleAndPublish that also reads, in
// the same transaction after the writes, what an analyzer reads on
// receipt of the alert: the last n samples of the container and its
// remediations. An analyzer of this process is then spared that round
// trip — on an idle machine the wake-ups of a round trip cost a
// millisecond. pre is nil when n <= 0, when the reads failed, and where
// the writes and the publish cannot share a transaction (Cluster, durable
// delivery); the analyzer reads for itself then.
func (b *Bus) RecordSamplePublishAndRead(ctx context.Context, stats *protocol.Stats, s sdk.Sample, agent, eventType string, data any, n int) (pre *Prefetched, writeErr, pubErr error) {
	if b.cluster() || b.streaming() {
		writeErr = b.RecordSample(ctx, stats, s)
		_, pubErr = b.Publish(ctx, agent, eventType, data)
		return nil, writeErr, pubErr
	}
	if err := checkName("event type", eventType); err != nil {
		return nil, b.RecordSample(ctx, stats, s), err
	}
	w, err := sampleWrites(stats, s)
	if err != nil {
		_, pubErr = b.Publish(ctx, agent, eventType, data)
		return nil, err, pubErr
	}
	env, err := b.newEnvelope(agent, eventType, data)
	if err != nil {
		return nil, b.RecordSample(ctx, stats, s), fmt.Errorf("bus: publish: %w", err)
	}
	raw := encodeEnvelope(env)

	b.closeMu.RLock()
	defer b.closeMu.RUnlock()
	if b.closed {
		return nil, ErrClosed, ErrClosed
	}
	var (
		pub  *redis.IntCmd
		h, r *redis.StringSliceCmd
	)
	hKey, rKey := protocol.HistoryKey(s.Container), protocol.DecisionsKey(s.Container)
	cmds, err := b.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		w.queue(ctx, p)
		if n > 0 {
			h = p.LRange(ctx, hKey, listStart(n), -1)
			r = p.LRange(ctx, rKey, 0, -1)
		}
		pub = p.Publish(ctx, protocol.Channel(eventType), raw)
		return nil
	})
	if err != nil && pub.Err() != nil {
		// The transaction did not run (a connection error, an outage):
		// nothing was written, nothing published.
		return nil, fmt.Errorf("bus: store sample of %s: %w", s.Container, err),
			fmt.Errorf("bus: publish %s to redis at %s: %w: %w", eventType, b.addr(), ErrNotDelivered, err)
	}
	for _, c := range cmds {
		if c != pub && c != h && c != r && c.Err() != nil && !errors.Is(c.Err(), redis.Nil) {
			writeErr = fmt.Errorf("bus: store sample of %s: %w", s.Container, c.Err())
			break
		}
	}
	b.metrics.published.WithLabelValues(eventType).Inc()
	// The log gets the very bytes subscribers got.
	b.events.add(eventType, string(raw))
	if n > 0 && h.Err() == nil && r.Err() == nil {
		pre = &Prefetched{
			RequestID:    protocol.RequestID(env),
			History:      decodeList[sdk.Sample](b, hKey, h.Val()),
			Remediations: decodeList[sdk.Remediation](b, rKey, r.Val()),
		}
	}
	return pre, writeErr, nil
}

// cluster reports whether Redis is a Cluster, where one transaction holds
// only keys of one slot.
func (b *Bus) cluster() bool {
	_, ok := b.client.(*redis.ClusterClient)
	return ok
}

// sampleWrite is one sample's writes, encoded.
type sampleWrite struct {
	statsKey, historyKey string
	stats, sample        []byte // stats nil: no stats key to write
	dropStats            bool   // a destroy: delete the stats key
}

func sampleWrites(stats *protocol.Stats, s sdk.Sample) (sampleWrite, error) {
	if err := checkName("container name", s.Container); err != nil {
		return sampleWrite{}, err
	}
	w := sampleWrite{historyKey: protocol.HistoryKey(s.Container)}
	var err error
	if w.sample, err = json.Marshal(s); err != nil {
		return sampleWrite{}, fmt.Errorf("bus: encode sample of %s: %w", s.Container, err)
	}
	if stats != nil {
		if err := checkName("container name", stats.Name); err != nil {
			return sampleWrite{}, err
		}
		w.statsKey = protocol.StatsKey(stats.Name)
		if w.stats, err = json.Marshal(stats); err != nil {
			return sampleWrite{}, fmt.Errorf("bus: encode stats of %s: %w", stats.Name, err)
		}
	} else if s.Event == sdk.EventDestroy {
		w.statsKey, w.dropStats = protocol.StatsKey(s.Container), true
	}
	return w, nil
}

// queue adds the writes to p.
func (w sampleWrite) queue(ctx context.Context, p redis.Pipeliner) {
	switch {
	case w.stats != nil:
		p.Set(ctx, w.statsKey, w.stats, protocol.StatsTTL)
	case w.dropStats:
		p.Del(ctx, w.statsKey)
	}
	p.RPush(ctx, w.historyKey, w.sample)
	p.LTrim(ctx, w.historyKey, int64(-protocol.HistoryMax), -1)
	p.Expire(ctx, w.historyKey, protocol.HistoryTTL)
}
