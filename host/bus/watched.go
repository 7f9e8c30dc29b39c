package bus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/protocol"
)

// WatchMark reads when a monitor role last watched host's engine
// (protocol.WatchedKey); the zero time when none is on record.
func (b *Bus) WatchMark(ctx context.Context, host string) (time.Time, error) {
	key := protocol.WatchedKey(host)
	raw, err := b.client.Get(ctx, key).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return time.Time{}, nil
	case err != nil:
		return time.Time{}, fmt.Errorf("bus: get %s: %w", key, err)
	}
	ms, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || ms <= 0 {
		return time.Time{}, fmt.Errorf("bus: %s holds %q, want Unix milliseconds", key, raw)
	}
	return time.UnixMilli(ms).UTC(), nil
}

// SetWatchMark records that a monitor role watched host's engine at t.
func (b *Bus) SetWatchMark(ctx context.Context, host string, t time.Time) error {
	key := protocol.WatchedKey(host)
	if err := b.client.Set(ctx, key, t.UnixMilli(), protocol.WatchedTTL).Err(); err != nil {
		return fmt.Errorf("bus: set %s: %w", key, err)
	}
	return nil
}
