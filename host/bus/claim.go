package bus

import (
	"context"
	"fmt"
	"time"

	"github.com/hemostat/hemostat/host/protocol"
)

// ClaimTTL is how long a fleet claim is kept: longer than any copy of one
// envelope can arrive apart (a replay after a reconnect reads logs an hour
// deep at most).
const ClaimTTL = protocol.EventLogTTL

// Claim takes up the envelope named id for role (SET NX PX on
// hemostat:claim:<role>:<id>) and reports whether this call took it:
// false means another daemon of the fleet did, and it must not be handled
// here again. The caller decides what a Redis error means.
func (b *Bus) Claim(ctx context.Context, role, id string) (bool, error) {
	key := protocol.ClaimKey(role, id)
	ok, err := b.client.SetNX(ctx, key, b.opts.Consumer+" "+time.Now().UTC().Format(time.RFC3339Nano), ClaimTTL).Result()
	if err != nil {
		return false, fmt.Errorf("bus: claim %s at %s: %w", key, b.addr(), err)
	}
	return ok, nil
}

// Host is the host name written into every envelope's data, "" when none.
func (b *Bus) Host() string { return b.opts.Host }
