package bus

import (
	"errors"
	"fmt"
	"time"
)

// ErrClosed is returned by the methods of a Bus that has been closed.
var ErrClosed = errors.New("bus: closed")

// FatalError ends Run when Redis stayed unreachable through every retry.
type FatalError struct {
	Addr    string        // where Redis was expected
	Tries   int           // reconnect attempts made
	Elapsed time.Duration // from losing the connection to giving up
	Err     error         // the last attempt's error
}

func (e *FatalError) Error() string {
	return fmt.Sprintf("redis at %s unreachable after %d tries over %s: %v", e.Addr, e.Tries, roundDuration(e.Elapsed), e.Err)
}

func (e *FatalError) Unwrap() error { return e.Err }

// roundDuration drops digits nobody reads: 17m3.0021s is 17m3s.
func roundDuration(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(time.Second)
	}
	return d.Round(time.Millisecond)
}
