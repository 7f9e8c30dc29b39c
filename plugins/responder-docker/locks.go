package dockerresponder

import (
	"context"
	"sync"
)

// containerLocks serialises actions on one container: two restarts racing
// on the same container would each report the other's outcome. Entries are
// removed when no action holds or waits for them.
type containerLocks struct {
	mu    sync.Mutex
	locks map[string]*containerLock
	// releases counts the actions that ended, on any container: a caller
	// that read a container's state and then took its lock with no release
	// in between knows no action of this responder changed it meanwhile.
	releases uint64
}

type containerLock struct {
	sem     chan struct{} // holds one token while an action runs
	waiters int
}

// lock waits until no other action runs on name, or ctx is done. The
// returned func releases the lock.
func (l *containerLocks) lock(ctx context.Context, name string) (func(), error) {
	l.mu.Lock()
	if l.locks == nil {
		l.locks = map[string]*containerLock{}
	}
	cl := l.locks[name]
	if cl == nil {
		cl = &containerLock{sem: make(chan struct{}, 1)}
		l.locks[name] = cl
	}
	cl.waiters++
	l.mu.Unlock()

	select {
	case cl.sem <- struct{}{}:
	case <-ctx.Done():
		l.release(name, cl, false)
		return nil, ctx.Err()
	}
	return func() { l.release(name, cl, true) }, nil
}

func (l *containerLocks) release(name string, cl *containerLock, held bool) {
	l.mu.Lock()
	if held {
		l.releases++
		<-cl.sem
	}
	cl.waiters--
	if cl.waiters == 0 {
		delete(l.locks, name)
	}
	l.mu.Unlock()
}

// released returns the count of actions ended so far; see releases.
func (l *containerLocks) released() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.releases
}
