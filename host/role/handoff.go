package role

import (
	"sync"
	"time"

	"github.com/hemostat/hemostat/sdk"
)

// Handoff carries a read of a container's history (and remediations) that
// one role of this process made over to the next role of the same process
// that needs it for the same alert, so that the alert's way to an action
// waits for one Redis read, not two or three in a row:
//   - the monitor reads, in the round trip that stores the sample and
//     publishes the alert, what the analyzer reads on receipt of it (see
//     PrefetchMaxAge);
//   - the analyzer hands the history it judged on to the responder that
//     acts on the decision (see DecisionMaxAge).
//
// Entries are keyed by the alert's request ID (a decision carries its
// alert's). The next role still makes its own read when the alert or
// decision came from elsewhere (another daemon, an outside agent), after
// the entry's age, and for every deferred action's re-check. What a
// Handoff holds is what this process read from Redis, never the content
// of a message: a forged alert or decision gets nothing from it.
//
// The responder uses the newest sample's labels for the gate's opt-out
// check, and the history's removals to forget a removed container's
// actions; a sample written between the two reads would be missed, the
// same as one written just after the responder's own read. The responder
// plugin checks the container's labels as the engine reports them anyway.
type Handoff struct {
	maxAge time.Duration

	mu    sync.Mutex
	m     map[handoffKey]handoffEntry
	swept time.Time
	// reading holds, per container, a channel closed when the read under
	// way (see begin) has been put: the alert it is for can reach the
	// analyzer before the monitor has the reply of its round trip.
	reading map[string]chan struct{}
	// now is the clock; tests set it.
	now func() time.Time
}

// How old a read may be and still stand in for the next role's own.
const (
	// PrefetchMaxAge: an alert reaches the analyzer of the process that
	// published it within milliseconds; one that waited longer (a burst
	// queued in the pool, an analyzer being restarted) is judged on a
	// fresh read.
	PrefetchMaxAge = 250 * time.Millisecond
	// DecisionMaxAge: a decision is published within milliseconds of the
	// read it was judged on, or within an LLM's seconds; a read older than
	// this belongs to an alert that waited, and the responder reads Redis
	// again.
	DecisionMaxAge = time.Second
)

type handoffKey struct{ container, requestID string }

// Read is one read of a container's records: the recent samples, oldest
// first, and the remediations.
type Read struct {
	History      []sdk.Sample
	Remediations []sdk.Remediation
}

type handoffEntry struct {
	read Read
	at   time.Time
}

// NewHandoff returns an empty Handoff whose entries are taken only while
// younger than maxAge.
func NewHandoff(maxAge time.Duration) *Handoff {
	return &Handoff{maxAge: maxAge, m: map[handoffKey]handoffEntry{}, reading: map[string]chan struct{}{}, now: time.Now}
}

// readingWait bounds how long take waits for a read under way.
const readingWait = 100 * time.Millisecond

// begin tells take that a read for container is under way, and returns
// the function to call once it is put, or failed. One at a time per
// container: the monitor's loop handles one sample at a time.
func (h *Handoff) begin(container string) (end func()) {
	if h == nil {
		return func() {}
	}
	ch := make(chan struct{})
	h.mu.Lock()
	h.reading[container] = ch
	h.mu.Unlock()
	return func() {
		h.mu.Lock()
		if h.reading[container] == ch {
			delete(h.reading, container)
		}
		h.mu.Unlock()
		close(ch)
	}
}

// put keeps the read made for the alert requestID about container. A nil
// Handoff keeps nothing; so does an alert without a request ID, which
// nothing could be matched to.
func (h *Handoff) put(container, requestID string, r Read) {
	if h == nil || requestID == "" {
		return
	}
	now := h.now()
	h.mu.Lock()
	defer h.mu.Unlock()
	// Forget what nobody took — decisions that were not remediations,
	// alerts another daemon judged — once per age, not at every put: a
	// burst puts thousands.
	if now.Sub(h.swept) > h.maxAge {
		for k, e := range h.m {
			if now.Sub(e.at) > h.maxAge {
				delete(h.m, k)
			}
		}
		h.swept = now
	}
	h.m[handoffKey{container, requestID}] = handoffEntry{read: r, at: now}
}

// take returns, once, the read made for requestID about container, if it
// is recent enough; while a read for container is under way, it waits for
// that first.
func (h *Handoff) take(container, requestID string) (Read, bool) {
	if h == nil || requestID == "" {
		return Read{}, false
	}
	k := handoffKey{container, requestID}
	h.mu.Lock()
	defer h.mu.Unlock()
	if ch := h.reading[container]; ch != nil {
		h.mu.Unlock()
		select {
		case <-ch:
		case <-time.After(readingWait):
		}
		h.mu.Lock()
	}
	e, ok := h.m[k]
	if !ok {
		return Read{}, false
	}
	delete(h.m, k)
	if h.now().Sub(e.at) > h.maxAge {
		return Read{}, false
	}
	return e.read, true
}
