package gate

import (
	"sync"
	"time"
)

// epoch is the fake clock's start, a moment from the protocol's examples.
var epoch = time.Date(2025, 11, 3, 10, 30, 0, 0, time.UTC)

// fakeClock is a clock the test moves by hand; safe for concurrent use.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: epoch} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// elapsed is the fake time since epoch.
func (c *fakeClock) elapsed() time.Duration { return c.Now().Sub(epoch) }

// newTestGate returns a gate over a fresh fake clock.
func newTestGate(p Policy) (*Gate, *fakeClock) {
	c := newFakeClock()
	return New(p, c.Now), c
}

// restart is a request that passes every static rule of DefaultPolicy.
func restart(container string) Request {
	return Request{Container: container, Action: "restart", Confidence: 0.9}
}
