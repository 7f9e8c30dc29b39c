package bus

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/protocol"
)

// ErrNotDelivered marks a Publish that Redis did not take — it is away or
// failing — as opposed to data that cannot be published at all: the same
// call may succeed later.
var ErrNotDelivered = errors.New("not delivered")

// Publish stamps data (which must encode to a JSON object) into an
// envelope, PUBLISHes it on hemostat:<eventType> at once and queues it for
// the type's event log. It returns the envelope as published. An error
// means nobody received it; whether to retry is the caller's choice.
func (b *Bus) Publish(ctx context.Context, agent, eventType string, data any) (protocol.Envelope, error) {
	if err := checkName("event type", eventType); err != nil {
		return protocol.Envelope{}, err
	}
	if agent == "" {
		return protocol.Envelope{}, errors.New("bus: publish: agent is empty")
	}
	env, err := b.newEnvelope(agent, eventType, data)
	if err != nil {
		return protocol.Envelope{}, fmt.Errorf("bus: publish: %w", err)
	}
	raw := encodeEnvelope(env)

	b.closeMu.RLock()
	defer b.closeMu.RUnlock()
	if b.closed {
		return protocol.Envelope{}, ErrClosed
	}
	if b.streaming() {
		if err := b.publishStreamed(ctx, eventType, raw); errors.Is(err, ErrNotDelivered) {
			return protocol.Envelope{}, err
		} else if err != nil {
			// Subscribers got it, so it is logged too; the error says
			// that stream readers did not.
			b.metrics.published.WithLabelValues(eventType).Inc()
			b.events.add(eventType, string(raw))
			return env, err
		}
	} else if err := b.publishJoined(ctx, eventType, raw); err != nil {
		return protocol.Envelope{}, fmt.Errorf("bus: publish %s to redis at %s: %w: %w", eventType, b.addr(), ErrNotDelivered, err)
	}
	b.metrics.published.WithLabelValues(eventType).Inc()
	// The log gets the very bytes subscribers got.
	b.events.add(eventType, string(raw))
	return env, nil
}

// encodeEnvelope writes what json.Marshal(env) would, without checking and
// compacting env.Data a second time: NewEnvelope just produced it with
// json.Marshal, and this is the publish path's largest cost after the
// round trip itself.
func encodeEnvelope(env protocol.Envelope) []byte {
	buf := make([]byte, 0, 64+len(env.Timestamp)+len(env.Agent)+len(env.Type)+len(env.Data))
	buf = append(buf, `{"timestamp":`...)
	buf = appendJSONString(buf, env.Timestamp)
	buf = append(buf, `,"agent":`...)
	buf = appendJSONString(buf, env.Agent)
	buf = append(buf, `,"type":`...)
	buf = appendJSONString(buf, env.Type)
	buf = append(buf, `,"data":`...)
	buf = append(buf, env.Data...)
	return append(buf, '}')
}

// appendJSONString appends s as encoding/json quotes it.
func appendJSONString(buf []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always encodes
	return append(buf, q...)
}

// newEnvelope stamps data for publishing now, with data.host when the bus
// has a host: every path that publishes builds its envelope here.
func (b *Bus) newEnvelope(agent, eventType string, data any) (protocol.Envelope, error) {
	env, err := protocol.NewEnvelope(agent, eventType, data, time.Now())
	if err != nil {
		return env, err
	}
	if b.opts.Host != "" {
		env.Data = withHost(env.Data, b.opts.Host)
	}
	return env, nil
}

// withHost adds "host" to a JSON object unless it has one at its top
// level. data comes from json.Marshal, so it is compact and starts with
// '{' and ends with '}'. Done here, once for every envelope, so that no
// role or plugin has to know which host it runs on.
func withHost(data json.RawMessage, host string) json.RawMessage {
	if bytes.Contains(data, []byte(`"host"`)) {
		// Rare: a field called host somewhere, maybe nested. Only the top
		// level counts.
		var top map[string]json.RawMessage
		if json.Unmarshal(data, &top) == nil {
			if _, ok := top["host"]; ok {
				return data
			}
		}
	}
	out := make([]byte, 0, len(data)+len(host)+12)
	out = append(out, data[:len(data)-1]...)
	if len(data) > 2 {
		out = append(out, ',')
	}
	out = append(out, `"host":`...)
	out = appendJSONString(out, host)
	return append(out, '}')
}

// publishJoined PUBLISHes raw in the next pipeline of the bus's callers.
func (b *Bus) publishJoined(ctx context.Context, eventType string, raw []byte) error {
	var cmd *redis.IntCmd
	if err := b.joiner.do(ctx, func(p redis.Pipeliner) {
		cmd = p.Publish(ctx, protocol.Channel(eventType), raw)
	}); err != nil {
		return err
	}
	return cmd.Err()
}
