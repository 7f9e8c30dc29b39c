package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hemostat/hemostat/host/protocol"
)

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
	env, err := protocol.NewEnvelope(agent, eventType, data, time.Now())
	if err != nil {
		return protocol.Envelope{}, fmt.Errorf("bus: publish: %w", err)
	}
	raw, err := json.Marshal(env)
	if err != nil {
		return protocol.Envelope{}, fmt.Errorf("bus: publish %s: %w", eventType, err)
	}

	b.closeMu.RLock()
	defer b.closeMu.RUnlock()
	if b.closed {
		return protocol.Envelope{}, ErrClosed
	}
	if err := b.client.Publish(ctx, protocol.Channel(eventType), raw).Err(); err != nil {
		return protocol.Envelope{}, fmt.Errorf("bus: publish %s to redis at %s: %w", eventType, b.addr(), err)
	}
	b.metrics.published.WithLabelValues(eventType).Inc()
	// The log gets the very bytes subscribers got.
	b.events.add(eventType, string(raw))
	return env, nil
}
