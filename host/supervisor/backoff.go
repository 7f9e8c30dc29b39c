package supervisor

import "time"

// backoff is the capped exponential delay between restarts of one plugin.
type backoff struct {
	initial, max time.Duration
	last         time.Duration
}

// next returns the delay before the next restart: initial, then doubling
// up to max.
func (b *backoff) next() time.Duration {
	if b.last == 0 {
		b.last = b.initial
	} else {
		b.last = min(2*b.last, b.max)
	}
	return b.last
}

// reset starts the sequence over, after a plugin proved stable.
func (b *backoff) reset() { b.last = 0 }
