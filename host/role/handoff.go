package role

import (
	"sync"
	"time"

	"github.com/hemostat/hemostat/sdk"
)

// handoffMaxAge is how old an analyzer's read of a container's history may
// be and still stand in for the responder's own read. A decision is
// published within milliseconds of the read it was judged on; a read
// older than this belongs to an alert that waited (an analyzer being
// restarted), and the responder reads Redis again.
const handoffMaxAge = time.Second

// Handoff carries the sample history an analyzer of this process read to
// judge an alert over to the responder of the same process that acts on
// the decision, so that the action waits for one Redis read of the
// history, not two in a row. The responder still makes its own read when
// the decision came from elsewhere (another daemon's analyzer, an outside
// one), after the entry's age, and for every deferred action's re-check.
// What it hands over is what this process read from Redis, never the
// content of a message: a forged decision gets nothing from it.
//
// The responder uses the newest sample's labels for the gate's opt-out
// check, and the history's removals to forget a removed container's
// actions; a sample written between the two reads would be missed, the
// same as one written just after the responder's own read. The responder
// plugin checks the container's labels as the engine reports them anyway.
type Handoff struct {
	mu sync.Mutex
	m  map[handoffKey]handoffEntry
	// now is the clock; tests set it.
	now func() time.Time
}

type handoffKey struct{ container, requestID string }

type handoffEntry struct {
	history []sdk.Sample
	at      time.Time
}

// NewHandoff returns an empty Handoff.
func NewHandoff() *Handoff {
	return &Handoff{m: map[handoffKey]handoffEntry{}, now: time.Now}
}

// put keeps the history read for the alert requestID about container. A
// nil Handoff keeps nothing; so does an alert without a request ID, which
// no decision could be matched to.
func (h *Handoff) put(container, requestID string, history []sdk.Sample) {
	if h == nil || requestID == "" {
		return
	}
	now := h.now()
	h.mu.Lock()
	defer h.mu.Unlock()
	// Forget what nobody took: decisions that were not remediations, or
	// that another daemon's responder acted on.
	for k, e := range h.m {
		if now.Sub(e.at) > handoffMaxAge {
			delete(h.m, k)
		}
	}
	h.m[handoffKey{container, requestID}] = handoffEntry{history: history, at: now}
}

// take returns, once, the history read for the decision requestID about
// container, if it is recent enough.
func (h *Handoff) take(container, requestID string) ([]sdk.Sample, bool) {
	if h == nil || requestID == "" {
		return nil, false
	}
	k := handoffKey{container, requestID}
	h.mu.Lock()
	defer h.mu.Unlock()
	e, ok := h.m[k]
	if !ok {
		return nil, false
	}
	delete(h.m, k)
	if h.now().Sub(e.at) > handoffMaxAge {
		return nil, false
	}
	return e.history, true
}
