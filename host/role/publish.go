package role

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hemostat/hemostat/host/bus"
)

// Background publish retries: from a second, doubling to half a minute,
// for as long as the bus itself keeps reconnecting (10 tries from 1s
// doubling come to ≈17 minutes).
const (
	publishRetryInitial = time.Second
	publishRetryMax     = 30 * time.Second
	publishRetryFor     = 18 * time.Minute
)

// publisher publishes a role's envelopes. A publish that Redis did not
// take — an outage, a failover — is retried in the background, so an
// alert or a decision is late rather than lost, and the role's loop is
// not held up meanwhile.
type publisher struct {
	bus   *bus.Bus
	agent string
	log   hclog.Logger
	wg    sync.WaitGroup
}

// publish sends data now or, failing that, keeps trying until ctx ends.
func (p *publisher) publish(ctx context.Context, eventType string, data any, container string) {
	_, err := p.bus.Publish(ctx, p.agent, eventType, data)
	p.failed(ctx, eventType, data, container, err)
}

// failed takes over a first publish made elsewhere: nothing when err is
// nil, and otherwise what publish does with its own failure.
func (p *publisher) failed(ctx context.Context, eventType string, data any, container string, err error) {
	if err == nil {
		return
	}
	if !errors.Is(err, bus.ErrNotDelivered) || ctx.Err() != nil {
		p.log.Error("publish failed", "type", eventType, "container", container, "error", err)
		return
	}
	p.log.Warn("publish failed; retrying in the background", "type", eventType, "container", container, "error", err)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		delay, giveUp := publishRetryInitial, time.Now().Add(publishRetryFor)
		for tries := 2; ; tries++ {
			select {
			case <-ctx.Done():
				p.log.Error("publish abandoned at shutdown", "type", eventType, "container", container, "tries", tries-1)
				return
			case <-time.After(delay):
			}
			_, err := p.bus.Publish(ctx, p.agent, eventType, data)
			if err == nil {
				p.log.Info("published after retrying", "type", eventType, "container", container, "tries", tries)
				return
			}
			if !errors.Is(err, bus.ErrNotDelivered) || time.Now().After(giveUp) {
				p.log.Error("publish failed for good", "type", eventType, "container", container, "tries", tries, "error", err)
				return
			}
			delay = min(delay*2, publishRetryMax)
		}
	}()
}

// wait blocks until background retries are over.
func (p *publisher) wait() { p.wg.Wait() }
