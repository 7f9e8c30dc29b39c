package bus

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/protocol"
)

// TestWatchMark: the mark is Unix milliseconds under the host's key with
// its TTL; none reads as the zero time, and what is not a mark (another
// writer's mistake) is a clear error, which the monitor role takes as no
// mark.
func TestWatchMark(t *testing.T) {
	forEachBackend(t, func(t *testing.T, client redis.UniversalClient) {
		ctx := context.Background()
		b := newBus(t, client, Options{})
		if mark, err := b.WatchMark(ctx, "rack-1"); !mark.IsZero() || err != nil {
			t.Fatalf("WatchMark with none written = %v, %v; want the zero time, nil", mark, err)
		}
		at := time.Date(2026, 12, 3, 13, 24, 15, 240_123_456, time.UTC)
		if err := b.SetWatchMark(ctx, "rack-1", at); err != nil {
			t.Fatalf("SetWatchMark: %v", err)
		}
		key := protocol.WatchedKey("rack-1")
		if got := client.Get(ctx, key).Val(); got != "1796304255240" {
			t.Errorf("%s = %q, want Unix milliseconds 1796304255240", key, got)
		}
		checkTTL(t, client, key, protocol.WatchedTTL)
		if mark, err := b.WatchMark(ctx, "rack-1"); err != nil || !mark.Equal(at.Truncate(time.Millisecond)) {
			t.Errorf("WatchMark = %v, %v; want %v", mark, err, at.Truncate(time.Millisecond))
		}
		for _, bad := range []string{"yesterday", "-5", "0"} {
			client.Set(ctx, protocol.WatchedKey("rack-2"), bad, 0)
			if mark, err := b.WatchMark(ctx, "rack-2"); err == nil || !mark.IsZero() {
				t.Errorf("WatchMark of %q = %v, %v; want the zero time and an error", bad, mark, err)
			}
		}
	})
}
