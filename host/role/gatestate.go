package role

import (
	"context"
	"time"

	"github.com/hemostat/hemostat/host/gate"
)

// termPoll is how often the responder's loop looks for a new lease term.
const termPoll = time.Second

// The safety gate lives in memory, but what it remembers must outlive the
// daemon: a standby that takes the engine's lease would otherwise start
// every container's backoff and breaker afresh, and a crash-looping
// container would get its fast early restarts again at every handover.
// So the responder writes a container's gate state to Redis
// (protocol.GateKey) after each request it handles, and reads it back —
// for every container at the start of each lease term, and for one
// container before the first request of a term — replacing what this
// daemon's gate remembers from an earlier term of its own.

// currentTerm is the lease generation held now; 0 without a lease.
func (r *Responder) currentTerm() int64 {
	if r.Term == nil {
		return 0
	}
	return r.Term()
}

// restoreTerm reads every container's gate state back at the start of a
// term (the first call, then each takeover), so that the dashboard shows
// it and the parked actions it holds are carried out when due.
func (r *Responder) restoreTerm(ctx context.Context) {
	if !r.Active.now() {
		return
	}
	term := r.currentTerm()
	r.mu.Lock()
	done := r.termSet && r.term == term
	r.mu.Unlock()
	if done {
		return
	}
	names, err := r.Bus.GateContainers(ctx)
	if err != nil {
		r.Logger.Warn("read the gate state back", "error", err)
		return // tried again at the next turn of the loop
	}
	restored := 0
	for _, name := range names {
		if _, why := r.Fleet.local(name); why != "" {
			continue
		}
		if r.loadGate(ctx, name) {
			restored++
		}
	}
	r.mu.Lock()
	r.term, r.termSet = term, true
	r.mu.Unlock()
	if restored > 0 {
		r.Logger.Info("gate state read back from Redis: backoff and breaker continue", "containers", restored, "term", term)
	}
}

// loadGate reads container's gate state back once per term, and reports
// whether a state was found. A read that fails leaves the gate as it is,
// and is tried again at the next request.
func (r *Responder) loadGate(ctx context.Context, container string) bool {
	term := r.currentTerm()
	r.mu.Lock()
	t, ok := r.loaded[container]
	r.mu.Unlock()
	if ok && t == term {
		return false
	}
	var saved gate.Saved
	found, err := r.Bus.LoadGate(ctx, container, &saved)
	if err != nil {
		r.Logger.Warn("read the gate state of a container back", "container", container, "error", err)
		return false
	}
	if found {
		r.Gate.Restore(container, &saved)
	} else {
		r.Gate.Restore(container, nil)
	}
	r.mu.Lock()
	if r.loaded == nil {
		r.loaded = map[string]int64{}
	}
	r.loaded[container] = term
	r.mu.Unlock()
	return found
}

// saveGate writes container's gate state to Redis for the next holder of
// the lease, with the gate's retention as TTL. Nothing to save deletes it.
func (r *Responder) saveGate(ctx context.Context, container string) {
	if !r.Active.now() {
		// The lease was lost while the request was handled: the new
		// holder's state in Redis is newer than this gate's.
		return
	}
	saved, ok := r.Gate.Save(container)
	var err error
	if ok {
		err = r.Bus.SaveGate(ctx, container, saved, r.Gate.Retention())
	} else {
		err = r.Bus.ForgetGate(ctx, container)
	}
	if err != nil {
		r.Logger.Warn("save the gate state of a container", "container", container, "error", err)
	}
}
