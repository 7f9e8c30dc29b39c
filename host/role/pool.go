package role

import (
	"context"
	"runtime/debug"
	"sync"

	"github.com/hashicorp/go-hclog"
)

// pool runs a role's work on a fixed number of workers: work for one key
// (a container) one item at a time, in arrival order; different keys in
// parallel. A slow plugin call for one container then holds one worker,
// never the others, and two alerts for the same container are never
// judged or acted on concurrently.
//
// At most capacity items wait or run at once; do waits for room beyond
// that. That wait is the back-pressure that reaches the bus, which then
// stops reading from Redis, so a burst never fills memory.
type pool struct {
	slots chan struct{} // one token per item waiting or running
	stop  chan struct{} // closed by close
	log   hclog.Logger

	mu     sync.Mutex
	ready  sync.Cond
	closed bool
	keys   map[string]*keyQueue
	// runnable lists keys with work and no worker on them, oldest first;
	// a key goes to the back after each item, so a busy key cannot starve
	// the others.
	runnable []string
	// extra counts items enqueued without a slot, not yet run.
	extra int
	wg    sync.WaitGroup
}

type keyQueue struct {
	items []func()
	// scheduled is set while the key is runnable or a worker runs it.
	scheduled bool
}

// newPool starts workers goroutines; close stops them.
func newPool(workers, capacity int, log hclog.Logger) *pool {
	workers = max(workers, 1)
	capacity = max(capacity, workers)
	if log == nil {
		log = hclog.NewNullLogger()
	}
	p := &pool{
		slots: make(chan struct{}, capacity),
		stop:  make(chan struct{}),
		log:   log,
		keys:  map[string]*keyQueue{},
	}
	p.ready.L = &p.mu
	p.wg.Add(workers)
	for range workers {
		go p.work()
	}
	return p
}

// do queues fn behind earlier work for key, waiting while the pool is full
// until wait ends. It reports false, and fn never runs, when wait ended or
// the pool is closed.
func (p *pool) do(wait context.Context, key string, fn func()) bool {
	select {
	case p.slots <- struct{}{}:
	case <-wait.Done():
		return false
	case <-p.stop:
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		<-p.slots
		return false
	}
	p.add(key, fn)
	return true
}

// enqueue queues fn like do but never waits: the item is taken even when
// the pool is full (it then holds more than its capacity). For callers
// that must not block, such as one holding a lock that the work takes.
// It reports false, and fn never runs, when the pool is closed.
func (p *pool) enqueue(key string, fn func()) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.extra++
	p.add(key, fn)
	return true
}

// waitRoom waits until the pool has room for one more item, and reports
// false when wait ended or the pool closed first. A caller that must
// enqueue (which never waits) waits here beforehand: a burst then holds up
// the bus instead of growing the queue, which stays within capacity plus
// what callers enqueue between one wait and the next.
func (p *pool) waitRoom(wait context.Context) bool {
	select {
	case p.slots <- struct{}{}:
		<-p.slots
		return true
	case <-wait.Done():
		return false
	case <-p.stop:
		return false
	}
}

// add queues fn for key. p.mu must be held.
func (p *pool) add(key string, fn func()) {
	q := p.keys[key]
	if q == nil {
		q = &keyQueue{}
		p.keys[key] = q
	}
	q.items = append(q.items, fn)
	if !q.scheduled {
		q.scheduled = true
		p.runnable = append(p.runnable, key)
		p.ready.Signal()
	}
}

func (p *pool) work() {
	defer p.wg.Done()
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		for len(p.runnable) == 0 && !p.closed {
			p.ready.Wait()
		}
		if len(p.runnable) == 0 {
			return // closed, and what is left is on other workers
		}
		key := p.runnable[0]
		p.runnable[0] = ""
		p.runnable = p.runnable[1:]
		q := p.keys[key]
		fn := q.items[0]
		q.items[0] = nil
		q.items = q.items[1:]
		p.mu.Unlock()
		p.run(key, fn)
		p.mu.Lock()
		// An item enqueued beyond capacity took no slot; release one
		// only when none of those are outstanding.
		if p.extra > 0 {
			p.extra--
		} else {
			<-p.slots
		}
		if len(q.items) > 0 {
			p.runnable = append(p.runnable, key)
			p.ready.Signal()
		} else {
			q.scheduled = false
			delete(p.keys, key)
		}
	}
}

// run calls fn; a panic in it is logged, and the worker goes on.
func (p *pool) run(key string, fn func()) {
	defer func() {
		if v := recover(); v != nil {
			p.log.Error("work panicked", "key", key, "panic", v, "stack", string(debug.Stack()))
		}
	}()
	fn()
}

// close refuses new work, wakes callers waiting for room, and waits until
// the queued work is done.
func (p *pool) close() {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.stop)
		p.ready.Broadcast()
	}
	p.mu.Unlock()
	p.wg.Wait()
}
