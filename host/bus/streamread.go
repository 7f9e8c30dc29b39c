package bus

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/protocol"
)

// streamBlock is how long one XREADGROUP waits for new entries. A blocked
// read does not watch ctx, so it also bounds how long Run takes to stop.
const streamBlock = 2 * time.Second

// streamCount bounds the entries one read or claim returns.
const streamCount = 128

// claimEvery is how often, at most, a reader looks for entries another
// consumer left pending; it also looks once at start.
func (b *Bus) claimEvery() time.Duration {
	return min(max(b.opts.ClaimMinIdle/2, time.Second), 30*time.Second)
}

// Prepare creates the consumer group of every subscribed type's stream
// that has none yet, starting at the stream's end, so that an envelope
// published once Prepare returns is read by Run however late it starts.
// With pub/sub delivery it does nothing.
func (b *Bus) Prepare(ctx context.Context) error {
	if !b.streaming() {
		return nil
	}
	for _, eventType := range b.subscribedTypes() {
		if err := b.createGroup(ctx, StreamKey(eventType), "$"); err != nil {
			return fmt.Errorf("bus: consumer group of %s at %s: %w", StreamKey(eventType), b.addr(), err)
		}
	}
	return nil
}

// createGroup creates the group at start (and the stream if need be); a
// group that exists already is left as it is.
func (b *Bus) createGroup(ctx context.Context, key, start string) error {
	err := b.client.XGroupCreateMkStream(ctx, key, b.opts.Group, start).Err()
	if err != nil && strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return nil
	}
	return err
}

func isNoGroup(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "NOGROUP")
}

// startReader starts the goroutine that reads one type's stream. Bus.mu
// must be held.
func (r *runState) startReader(b *Bus, eventType string) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		s := &streamReader{b: b, r: r, eventType: eventType, key: StreamKey(eventType), backlog: true, cursor: "0", inFlight: map[string]struct{}{}}
		if err := s.run(); err != nil {
			select {
			case r.fatal <- err:
			default:
			}
		}
	}()
}

// waitReaders returns when Run must end: nil when ctx ends, the error of
// a reader that gave up.
func (r *runState) waitReaders() error {
	select {
	case <-r.ctx.Done():
		return nil
	case err := <-r.fatal:
		return err
	}
}

// streamReader reads one type's stream through the consumer group: first
// the entries this consumer left pending (a hemostatd that died, or was
// stopped with work queued), then new ones, and now and then those other
// consumers left pending longer than ClaimMinIdle.
type streamReader struct {
	b         *Bus
	r         *runState
	eventType string
	key       string

	backlog bool   // still reading this consumer's own pending entries
	cursor  string // the last of them read
	lastID  string // the last entry handed on, to recreate a lost group from
	claimAt time.Time

	// inFlight holds the entries handed on and not yet acknowledged, so
	// that a claim never takes this consumer's own slow work a second time.
	mu       sync.Mutex
	inFlight map[string]struct{}
}

func (s *streamReader) run() error {
	var down time.Time // when the failures in a row began
	var step time.Duration
	for s.r.ctx.Err() == nil {
		err := s.step()
		if err == nil || s.r.ctx.Err() != nil {
			if !down.IsZero() && err == nil {
				s.b.log.Info("reading the stream again", "stream", s.key, "outage", roundDuration(time.Since(down)))
				down, step = time.Time{}, 0
				s.r.readerUp(s.b)
			}
			continue
		}
		// A group that cannot be created again (the server refuses it)
		// is an outage like any other: logged once, retried on the
		// backoff — never at once, which would spin.
		if isNoGroup(err) {
			if err = s.recreateGroup(); err == nil {
				continue
			}
		}
		if down.IsZero() {
			down, step = time.Now(), s.b.opts.RetryInitial
			s.b.log.Warn("cannot read the stream; retrying", "stream", s.key, "address", s.b.addr(), "error", err)
			s.r.readerDown(s.b, err)
		} else {
			step *= 2
		}
		if giveUp := s.b.opts.RetryInitial * time.Duration(1<<min(s.b.opts.RetryMax, 30)-1); time.Since(down) > giveUp {
			return &FatalError{Addr: s.b.addr(), Tries: s.b.opts.RetryMax, Elapsed: time.Since(down), Err: err}
		}
		select {
		case <-s.r.ctx.Done():
		case <-time.After(min(step, s.b.opts.RetryMaxWait)):
		}
	}
	return nil
}

// recreateGroup creates again a group deleted under hemostatd, from the
// last entry it handed on, so that what was added since is still read.
func (s *streamReader) recreateGroup() error {
	start := s.lastID
	if start == "" {
		start = "$"
	}
	ctx, cancel := context.WithTimeout(s.r.ctx, 5*time.Second)
	defer cancel()
	if err := s.b.createGroup(ctx, s.key, start); err != nil {
		return fmt.Errorf("the consumer group %s was deleted and cannot be created again: %w", s.b.opts.Group, err)
	}
	s.b.metrics.groupsRecreated.WithLabelValues(s.eventType).Inc()
	s.b.log.Warn("consumer group was deleted; created it again", "stream", s.key, "group", s.b.opts.Group, "from", start)
	s.backlog = false // its pending entries went with it
	return nil
}

// step reads (or claims) once and hands on what it got.
func (s *streamReader) step() error {
	if !s.reading() {
		select {
		case <-s.r.ctx.Done():
		case <-time.After(standbyPoll):
		}
		return nil
	}
	if !s.backlog && !time.Now().Before(s.claimAt) {
		if err := s.claim(); err != nil {
			return err
		}
		s.claimAt = time.Now().Add(s.b.claimEvery())
	}
	id, block := ">", streamBlock
	if s.backlog {
		id, block = s.cursor, -1
	}
	res, err := s.b.client.XReadGroup(s.r.ctx, &redis.XReadGroupArgs{
		Group: s.b.opts.Group, Consumer: s.b.opts.Consumer, Streams: []string{s.key, id},
		Count: streamCount, Block: block,
	}).Result()
	if errors.Is(err, redis.Nil) {
		return nil
	}
	if err != nil {
		return err
	}
	var msgs []redis.XMessage
	for _, st := range res {
		msgs = append(msgs, st.Messages...)
	}
	if s.backlog {
		if len(msgs) == 0 {
			s.backlog = false
			return nil
		}
		s.cursor = msgs[len(msgs)-1].ID
		s.b.log.Info("taking up entries this consumer left pending", "stream", s.key, "count", len(msgs))
		msgs = s.dropPoison(msgs)
	}
	if !s.reading() {
		// Paused during the read: the entries stay pending, for the
		// active daemon to claim, rather than be dropped here.
		return nil
	}
	for _, m := range msgs {
		s.hand(m)
	}
	return nil
}

// standbyPoll is how often a paused reader looks whether to read again.
const standbyPoll = 100 * time.Millisecond

// reading tells whether the bus's ReadWhile lets the readers read.
func (s *streamReader) reading() bool {
	return s.b.opts.ReadWhile == nil || s.b.opts.ReadWhile()
}

// claim takes over the entries other consumers left pending too long.
func (s *streamReader) claim() error {
	start, claimed := "0-0", 0
	for {
		msgs, next, err := s.b.client.XAutoClaim(s.r.ctx, &redis.XAutoClaimArgs{
			Stream: s.key, Group: s.b.opts.Group, Consumer: s.b.opts.Consumer,
			MinIdle: s.b.opts.ClaimMinIdle, Start: start, Count: streamCount,
		}).Result()
		if err != nil {
			return err
		}
		for _, m := range s.dropPoison(msgs) {
			if s.held(m.ID) {
				continue // this consumer's own work, slow but under way
			}
			claimed++
			s.hand(m)
		}
		if next == "" || next == "0-0" {
			break
		}
		start = next
	}
	if claimed > 0 {
		s.b.metrics.claimed.WithLabelValues(s.eventType).Add(float64(claimed))
		s.b.log.Warn("claimed stream entries another consumer left pending", "stream", s.key, "count", claimed, "min_idle", s.b.opts.ClaimMinIdle)
	}
	return nil
}

func (s *streamReader) held(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.inFlight[id]
	return ok
}

// hand decodes one entry and queues it for the type's handlers, to be
// acknowledged once they are done with it. An entry that is not a valid
// envelope is logged, counted, acknowledged and skipped, as pub/sub skips
// an invalid message; leaving it pending would hand it on forever.
func (s *streamReader) hand(m redis.XMessage) {
	s.lastID = m.ID
	s.b.metrics.received.WithLabelValues(s.eventType).Inc()
	ack := func() {
		s.mu.Lock()
		delete(s.inFlight, m.ID)
		s.mu.Unlock()
		s.b.acks.add(s.eventType, m.ID)
	}
	raw, ok := m.Values[StreamField].(string)
	if !ok {
		// A trimmed entry still pending comes back without its fields.
		s.b.rejectMessage(s.eventType, 0, &protocol.InvalidError{Reason: protocol.ErrMissing,
			Detail: fmt.Sprintf("stream entry %s of %s has no %q field", m.ID, s.key, StreamField)})
		ack()
		return
	}
	var env protocol.Envelope
	var err error
	if len(raw) > protocol.MaxMessageBytes {
		err = &protocol.InvalidError{Reason: protocol.ErrTooLarge, Detail: fmt.Sprintf("%d bytes, limit %d", len(raw), protocol.MaxMessageBytes)}
	} else {
		env, err = protocol.DecodeEnvelope([]byte(raw), s.eventType)
	}
	if err != nil {
		s.b.rejectMessage(s.eventType, len(raw), err)
		ack()
		return
	}
	s.mu.Lock()
	s.inFlight[m.ID] = struct{}{}
	s.mu.Unlock()
	s.b.mu.Lock()
	q := s.r.dispatchers[s.eventType]
	s.b.mu.Unlock()
	select {
	case q <- queued{env: env, ack: ack}:
	case <-s.r.ctx.Done():
	}
}

// readerDown and readerUp tell OnConnection when the first stream reader
// loses Redis and when the last one has it again, as a subscription would.
func (r *runState) readerDown(b *Bus, err error) {
	r.downMu.Lock()
	defer r.downMu.Unlock()
	r.readersDown++
	if r.readersDown == 1 && b.opts.OnConnection != nil {
		b.opts.OnConnection(false, err)
	}
}

func (r *runState) readerUp(b *Bus) {
	r.downMu.Lock()
	defer r.downMu.Unlock()
	r.readersDown--
	if r.readersDown == 0 && b.opts.OnConnection != nil {
		b.opts.OnConnection(true, nil)
	}
}

// maxDeliveries is how many times an entry is handed on without being
// acknowledged before it is given up: an entry whose work kills
// hemostatd, or never ends, would otherwise come back at every restart
// and every claim, for ever.
const maxDeliveries = 5

// dropPoison gives up the entries of msgs (pending ones, being taken up
// again) that were delivered maxDeliveries times already: each is logged
// once, counted in hemostat_bus_stream_given_up_total and acknowledged,
// and the rest go on. When their counts cannot be read, all go on.
func (s *streamReader) dropPoison(msgs []redis.XMessage) []redis.XMessage {
	if len(msgs) == 0 {
		return msgs
	}
	ctx, cancel := context.WithTimeout(s.r.ctx, 5*time.Second)
	defer cancel()
	pending, err := s.b.client.XPendingExt(ctx, &redis.XPendingExtArgs{
		Stream: s.key, Group: s.b.opts.Group, Start: msgs[0].ID, End: msgs[len(msgs)-1].ID, Count: int64(len(msgs)),
	}).Result()
	if err != nil {
		return msgs
	}
	deliveries := make(map[string]int64, len(pending))
	for _, p := range pending {
		deliveries[p.ID] = p.RetryCount
	}
	kept := msgs[:0]
	for _, m := range msgs {
		// The read or claim that returned m counted one delivery more.
		if n := deliveries[m.ID]; n > maxDeliveries {
			s.b.metrics.givenUp.WithLabelValues(s.eventType).Inc()
			s.b.log.Error("stream entry given up: delivered too many times without its work ending", "stream", s.key, "id", m.ID, "deliveries", n-1)
			s.b.acks.add(s.eventType, m.ID)
			continue
		}
		kept = append(kept, m)
	}
	return kept
}
