package role

import (
	"context"
	"sync"
)

// serializer runs work for one container at a time, in arrival order, and
// different containers in parallel up to a bound. A slow plugin call for one
// container then never holds up the others, and two alerts for the same
// container are never judged or acted on concurrently.
type serializer struct {
	sem chan struct{}

	mu     sync.Mutex
	closed bool
	queues map[string][]func()
	wg     sync.WaitGroup
}

func newSerializer(parallel int) *serializer {
	return &serializer{sem: make(chan struct{}, parallel), queues: map[string][]func(){}}
}

// do queues fn behind earlier work for key. After close it does nothing
// and reports false.
func (s *serializer) do(ctx context.Context, key string, fn func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	q, running := s.queues[key]
	s.queues[key] = append(q, fn)
	if !running {
		// Added under mu, so close cannot be waiting on a count that is
		// about to grow.
		s.wg.Add(1)
		go s.drain(ctx, key)
	}
	return true
}

func (s *serializer) drain(ctx context.Context, key string) {
	defer s.wg.Done()
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		s.mu.Lock()
		delete(s.queues, key)
		s.mu.Unlock()
		return
	}
	defer func() { <-s.sem }()
	for {
		s.mu.Lock()
		q := s.queues[key]
		if len(q) == 0 {
			delete(s.queues, key)
			s.mu.Unlock()
			return
		}
		fn := q[0]
		s.queues[key] = q[1:]
		s.mu.Unlock()
		fn()
	}
}

// close refuses new work and waits until the queued work is done.
func (s *serializer) close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.wg.Wait()
}
