package feed

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/protocol"
)

// Pattern is the channel pattern the tap listens on: every event type.
const Pattern = protocol.Prefix + "*"

// Tap publishes to the hub every valid envelope on any hemostat channel
// until ctx ends. go-redis resubscribes by itself after a lost connection;
// what was published meanwhile is in the event logs, which the events
// endpoint reads.
func Tap(ctx context.Context, client redis.UniversalClient, hub *Hub) error {
	ps := client.PSubscribe(ctx, Pattern)
	defer ps.Close()
	ch := ps.Channel(redis.WithChannelSize(4096))
	for {
		select {
		case <-ctx.Done():
			return nil
		case msg, ok := <-ch:
			if !ok {
				return nil
			}
			// Checking and compacting every envelope of a burst cost
			// hemostatd a tenth of its CPU with nobody to hand them to.
			// A client that joins gets what arrives from then on, as it
			// always did.
			if hub.Clients() == 0 {
				continue
			}
			if m, ok := Encode(msg.Channel, msg.Payload); ok {
				hub.Publish(m)
			}
		}
	}
}

// Encode checks a published payload and compacts it to one line; false
// for anything that is not a valid envelope of its channel's type.
func Encode(channel, payload string) (Message, bool) {
	eventType, ok := strings.CutPrefix(channel, protocol.Prefix)
	if !ok || !ValidType(eventType) {
		return Message{}, false
	}
	if _, err := protocol.DecodeEnvelope([]byte(payload), eventType); err != nil {
		return Message{}, false
	}
	var buf bytes.Buffer
	if json.Compact(&buf, []byte(payload)) != nil {
		return Message{}, false
	}
	return Message{Type: eventType, Data: buf.Bytes()}, true
}

// ValidType accepts the characters event types are made of, so that a
// channel name can never break the stream's "event:" line nor a key
// pattern.
func ValidType(t string) bool {
	if t == "" || len(t) > 64 {
		return false
	}
	for _, c := range t {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}
