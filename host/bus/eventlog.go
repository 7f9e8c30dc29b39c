package bus

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/protocol"
)

//go:embed eventlog.lua
var eventLogLua string

var eventLogScript = redis.NewScript(eventLogLua)

// eventLogListKey holds the raw envelopes behind hemostat:events:<type>,
// newest last. It must not match hemostat:events:*, which dashboards read
// as JSON arrays. The braces make a Cluster hash it exactly like the
// events key itself, so that one script may touch both.
func eventLogListKey(eventType string) string {
	return protocol.Prefix + "eventlog:{" + protocol.EventLogKey(eventType) + "}"
}

// eventCountKey counts the envelopes ever appended to a type's log (see
// eventlog.lua); it shares the log's hash tag for the same reason.
func eventCountKey(eventType string) string {
	return protocol.Prefix + "eventcount:{" + protocol.EventLogKey(eventType) + "}"
}

// eventLogSizeKey holds the byte length the script last gave the log, so
// that it can tell its own array from another writer's without reading
// it whole (see eventlog.lua).
func eventLogSizeKey(eventType string) string {
	return protocol.Prefix + "eventlogsize:{" + protocol.EventLogKey(eventType) + "}"
}

// flushTimeout bounds one background flush, so a hung server cannot stall
// the flusher forever.
const flushTimeout = 10 * time.Second

// Waits between failed background flushes.
const (
	flushRetryMin = 10 * time.Millisecond
	flushRetryMax = time.Second
)

// eventLog queues event-log appends per type and writes them in batches.
//
// Only the newest protocol.EventLogMax envelopes of a type can survive in
// the log, so a queue never needs more than max(MaxBatch, EventLogMax):
// older ones would be trimmed by the very write that carried them.
type eventLog struct {
	client   redis.UniversalClient
	interval time.Duration
	maxBatch int
	keep     int
	log      hclog.Logger
	metrics  *metrics

	mu      sync.Mutex
	pending map[string][]string // event type → envelopes, oldest first
	// trimmed counts, per type, the queued envelopes dropped because
	// newer ones would have trimmed them from the log anyway; the log's
	// append count still includes them.
	trimmed map[string]int

	// writeMu serialises writers, so that batches land in queue order.
	writeMu sync.Mutex

	kick chan struct{} // something is queued
	full chan struct{} // a queue reached maxBatch

	start   sync.Once
	stopped sync.Once
	ctx     context.Context // ends when the flusher must stop
	cancel  context.CancelFunc
	done    chan struct{} // closed when the flusher has stopped
}

func newEventLog(client redis.UniversalClient, opts Options, log hclog.Logger, m *metrics) *eventLog {
	ctx, cancel := context.WithCancel(context.Background())
	return &eventLog{
		client:   client,
		interval: opts.FlushInterval,
		maxBatch: opts.MaxBatch,
		keep:     max(opts.MaxBatch, protocol.EventLogMax),
		log:      log,
		metrics:  m,
		pending:  make(map[string][]string),
		trimmed:  make(map[string]int),
		kick:     make(chan struct{}, 1),
		full:     make(chan struct{}, 1),
		ctx:      ctx,
		cancel:   cancel,
		done:     make(chan struct{}),
	}
}

// add queues one envelope. The flusher starts with the first one; it is
// owned by the eventLog and stopped by close.
func (l *eventLog) add(eventType, raw string) {
	l.start.Do(func() { go l.runFlusher() })
	l.mu.Lock()
	n := l.queue(eventType, raw)
	l.mu.Unlock()
	signal(l.kick)
	if n >= l.maxBatch {
		signal(l.full)
	}
}

// queue appends envelopes to a type's queue, drops what the log could not
// keep anyway, and returns the queue's length. l.mu must be held.
func (l *eventLog) queue(eventType string, raw ...string) int {
	q := append(l.pending[eventType], raw...)
	if len(q) > l.keep {
		l.trimmed[eventType] += len(q) - l.keep
		q = q[len(q)-l.keep:]
	}
	l.pending[eventType] = q
	return len(q)
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// runFlusher writes queued appends FlushInterval after the first of them
// arrives, or at once when a queue is full, until close.
func (l *eventLog) runFlusher() {
	defer close(l.done)
	var retry time.Duration // non-zero while Redis fails
	for {
		select {
		case <-l.ctx.Done():
			return
		case <-l.kick:
		}
		wait, full := l.interval, l.full
		if retry > 0 {
			wait, full = retry, nil // a full queue does not cut a backoff short
		}
		timer := time.NewTimer(wait)
		select {
		case <-l.ctx.Done():
			timer.Stop()
			return
		case <-full:
		case <-timer.C:
		}
		timer.Stop()

		ctx, cancel := context.WithTimeout(l.ctx, flushTimeout)
		err := l.flush(ctx)
		cancel()
		switch {
		case err == nil:
			if retry > 0 {
				l.log.Info("event logs written again")
			}
			retry = 0
		case l.ctx.Err() != nil:
			return // close takes over
		default:
			if retry == 0 {
				l.log.Warn("cannot write event logs; keeping them queued and retrying", "error", err)
			}
			retry = min(max(2*retry, flushRetryMin), flushRetryMax)
			signal(l.kick)
		}
	}
}

// flush writes every queued append now. What cannot be written stays
// queued, ahead of anything queued meanwhile.
func (l *eventLog) flush(ctx context.Context) error {
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	l.mu.Lock()
	batches, trimmed := l.pending, l.trimmed
	l.pending = make(map[string][]string, len(batches))
	l.trimmed = make(map[string]int)
	l.mu.Unlock()

	var errs []error
	for eventType, batch := range batches {
		if err := l.write(ctx, eventType, batch, trimmed[eventType]); err != nil {
			errs = append(errs, fmt.Errorf("event log %s: %w", eventType, err))
			l.mu.Lock()
			newer := l.pending[eventType]
			l.pending[eventType] = nil
			l.trimmed[eventType] += trimmed[eventType]
			l.queue(eventType, append(batch, newer...)...)
			l.mu.Unlock()
		}
	}
	return errors.Join(errs...)
}

// write appends one type's batch with one script call; trimmed more
// envelopes were published before it and dropped from the queue.
func (l *eventLog) write(ctx context.Context, eventType string, batch []string, trimmed int) error {
	send := batch
	if len(send) > protocol.EventLogMax {
		send = send[len(send)-protocol.EventLogMax:]
	}
	args := make([]any, 0, 3+len(send))
	args = append(args, protocol.EventLogMax, int(protocol.EventLogTTL/time.Second), len(batch)+trimmed)
	for _, raw := range send {
		args = append(args, raw)
	}
	keys := []string{protocol.EventLogKey(eventType), eventLogListKey(eventType), eventCountKey(eventType), eventLogSizeKey(eventType)}
	res, err := eventLogScript.Run(ctx, l.client, keys, args...).Int64Slice()
	if err != nil {
		return err
	}
	l.metrics.batchSize.Observe(float64(len(batch)))
	if len(res) == 3 && res[1] == 1 {
		l.log.Warn("event log was rewritten by another writer; kept its events", "key", keys[0], "kept", res[2])
	}
	return nil
}

// pendingCount is how many appends are queued.
func (l *eventLog) pendingCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, q := range l.pending {
		n += len(q)
	}
	return n
}

// close stops the flusher and writes what is queued, retrying until it is
// written or ctx ends.
func (l *eventLog) close(ctx context.Context) error {
	l.stopped.Do(func() {
		l.start.Do(func() { close(l.done) }) // never started: nothing to wait for
		l.cancel()
	})
	<-l.done
	retry := flushRetryMin
	for {
		err := l.flush(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("bus: %d event-log appends not written: %w", l.pendingCount(), err)
		case <-time.After(retry):
		}
		retry = min(2*retry, flushRetryMax)
	}
}
