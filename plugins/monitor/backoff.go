package monitor

import (
	"context"
	"time"
)

// Reconnect delays: short enough that a restarted engine is back in view
// within a second or two, capped so that a long outage costs nothing.
const (
	reconnectMin = 200 * time.Millisecond
	reconnectMax = 10 * time.Second
)

// backoff doubles a delay up to a cap.
type backoff struct {
	min, max, next time.Duration
}

func newBackoff(min, max time.Duration) *backoff { return &backoff{min: min, max: max, next: min} }

// wait sleeps for the current delay, then doubles it; it returns false if
// ctx ended first.
func (b *backoff) wait(ctx context.Context) bool {
	t := time.NewTimer(b.next)
	defer t.Stop()
	b.next = min(b.next*2, b.max)
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (b *backoff) reset() { b.next = b.min }
