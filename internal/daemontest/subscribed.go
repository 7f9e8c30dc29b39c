package daemontest

import (
	"context"
	"testing"
	"time"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/redis/go-redis/v9"
)

// WaitSubscribed waits until someone — hemostatd, in the tests — listens
// on the channel of each event type: pub/sub keeps nothing for a
// subscriber not yet there, so a test publishing raw messages must wait.
// A watcher's PSUBSCRIBE is not counted (NUMSUB counts channels only).
func WaitSubscribed(t testing.TB, rdb *redis.Client, eventTypes ...string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for _, et := range eventTypes {
		ch := protocol.Channel(et)
		for rdb.PubSubNumSub(context.Background(), ch).Val()[ch] == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("hemostatd never subscribed to %s", ch)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}
