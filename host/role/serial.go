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
	queues map[string][]func()
	wg     sync.WaitGroup
}

func newSerializer(parallel int) *serializer {
	return &serializer{sem: make(chan struct{}, parallel), queues: map[string][]func(){}}
}

// do queues fn behind earlier work for key.
func (s *serializer) do(ctx context.Context, key string, fn func()) {
	s.mu.Lock()
	q, running := s.queues[key]
	s.queues[key] = append(q, fn)
	s.mu.Unlock()
	if running {
		return
	}
	s.wg.Add(1)
	go s.drain(ctx, key)
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

// wait blocks until all queued work is done.
func (s *serializer) wait() { s.wg.Wait() }
