package monitor

import (
	"context"
	"errors"
	"time"
)

// engineCallTimeout bounds every request to the engine but the event
// stream and stats: an engine that accepts a request and never answers
// (a container lock held through a stuck exit, a wedged daemon) must not
// freeze the loop that made it.
const engineCallTimeout = 5 * time.Second

// statsGrace is what a one-shot stats call may take beyond the sampling
// interval: the engine answers at its next collection cycle, once a
// second.
const statsGrace = 2 * time.Second

// infoRetry is how long a failed engine info is remembered before it is
// asked again, so that an engine that does not answer it costs one
// timeout per period rather than one per container read.
const infoRetry = 30 * time.Second

// errEngineTimeout marks a request the engine did not answer in time.
var errEngineTimeout = errors.New("docker engine did not answer in time")

// timedOut says whether err is ctx's deadline rather than the engine's
// answer or the end of the caller's context.
func timedOut(ctx context.Context, err error) bool {
	return err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded)
}
