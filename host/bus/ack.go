package bus

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/redis/go-redis/v9"
)

// A stream entry is acknowledged when its work is done, not when its
// handlers return: a role hands the work to its pool and returns at once.
// Such a handler calls Hold and calls what it returns once the work is
// over; the entry is acknowledged when every handler of its type has
// returned and every Hold has been released. Work that never ends — cut off
// by a shutdown, abandoned — is never acknowledged, so the entry stays
// pending and is handled again when hemostatd comes back.

// holdKey finds the delivery an envelope came with in a handler's context.
type holdKey struct{}

// delivery counts what still holds one stream entry.
type delivery struct {
	refs atomic.Int32
	ack  func()
}

func (d *delivery) release() {
	if d.refs.Add(-1) == 0 {
		d.ack()
	}
}

// Hold defers the acknowledgement of the envelope a handler was called with
// until the returned function is called (more calls do nothing). A handler
// that hands its work on calls Hold before returning and releases it once
// the work is done. With pub/sub delivery there is nothing to acknowledge,
// and the function does nothing.
func Hold(ctx context.Context) (release func()) {
	d, ok := ctx.Value(holdKey{}).(*delivery)
	if !ok {
		return func() {}
	}
	d.refs.Add(1)
	var once sync.Once
	return func() { once.Do(d.release) }
}

// ackBatch bounds the entries one XACK names.
const ackBatch = 512

// ackRetry is the wait between tries of an XACK Redis refused; an
// acknowledgement that never gets through only means the entry is handled
// again, which every role tolerates.
const ackRetry = 200 * time.Millisecond

// acker acknowledges stream entries in batches, off the handlers' path:
// an XACK round trip per entry would halve the throughput.
type acker struct {
	client  redis.UniversalClient
	group   string
	log     hclog.Logger
	metrics *metrics

	mu      sync.Mutex
	pending map[string][]string // event type → entry IDs
	kick    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	closed  bool
}

func newAcker(client redis.UniversalClient, group string, log hclog.Logger, m *metrics) *acker {
	a := &acker{
		group:  group,
		client: client, log: log, metrics: m,
		pending: map[string][]string{},
		kick:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	go a.run()
	return a
}

// add queues an acknowledgement. After close it is dropped: the entry is
// then handled again by the next hemostatd.
func (a *acker) add(eventType, id string) {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return
	}
	a.pending[eventType] = append(a.pending[eventType], id)
	a.mu.Unlock()
	signal(a.kick)
}

func (a *acker) run() {
	defer close(a.done)
	for {
		select {
		case <-a.stop:
			return
		case <-a.kick:
		}
		ctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
		err := a.flush(ctx)
		cancel()
		if err != nil {
			a.log.Warn("cannot acknowledge stream entries; retrying", "error", err)
			select {
			case <-a.stop:
				return
			case <-time.After(ackRetry):
			}
			signal(a.kick)
		}
	}
}

// flush acknowledges what is queued, in one round trip; what fails stays
// queued.
func (a *acker) flush(ctx context.Context) error {
	a.mu.Lock()
	batch := a.pending
	a.pending = map[string][]string{}
	a.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	type sent struct {
		eventType string
		ids       []string
		cmd       *redis.IntCmd
	}
	var cmds []sent
	_, err := a.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for eventType, ids := range batch {
			for i := 0; i < len(ids); i += ackBatch {
				part := ids[i:min(i+ackBatch, len(ids))]
				cmds = append(cmds, sent{eventType, part, p.XAck(ctx, StreamKey(eventType), a.group, part...)})
			}
		}
		return nil
	})
	if err == nil {
		for _, c := range cmds {
			a.metrics.acked.WithLabelValues(c.eventType).Add(float64(len(c.ids)))
		}
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, c := range cmds {
		if c.cmd.Err() == nil {
			a.metrics.acked.WithLabelValues(c.eventType).Add(float64(len(c.ids)))
			continue
		}
		if isNoGroup(c.cmd.Err()) {
			continue // the group is gone, and its pending entries with it
		}
		a.pending[c.eventType] = append(a.pending[c.eventType], c.ids...)
	}
	return fmt.Errorf("xack: %w", err)
}

// close stops the background acknowledgements and writes what is queued,
// retrying until ctx ends.
func (a *acker) close(ctx context.Context) error {
	a.mu.Lock()
	already := a.closed
	a.closed = true
	a.mu.Unlock()
	if already {
		return nil
	}
	close(a.stop)
	<-a.done
	for {
		err := a.flush(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("bus: stream entries left unacknowledged (they will be handled again): %w", err)
		case <-time.After(ackRetry):
		}
	}
}
