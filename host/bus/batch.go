package bus

import (
	"context"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Concurrent round trips of the bus's callers are joined into pipelines:
// under a burst the analyzer's 64 workers each read a container's
// histories and publish a decision, and one round trip apiece was
// hemostatd's largest cost (syscalls on both sides, and Redis's own
// per-request work). A caller that finds fewer than maxPipelines
// pipelines in flight sends at once, so a lone call waits for nobody;
// the others queue and go together in the next pipeline.
const (
	maxPipelines    = 2
	maxPipelineCmds = 512
	// pipelineTimeout bounds one pipeline, whatever its callers' contexts.
	pipelineTimeout = 10 * time.Second
)

// joiner joins concurrent callers' commands into pipelines.
type joiner struct {
	client redis.UniversalClient

	mu      sync.Mutex
	queue   []*joined
	running int
}

// joined is one caller's commands.
type joined struct {
	ctx  context.Context
	fill func(redis.Pipeliner)
	done chan struct{}
	sent bool // fill's commands went out; set before done is closed
}

// do queues fill's commands, sends them with whatever else is queued, and
// returns once they have their replies: each command then carries its own
// result or error. A caller whose ctx ends before its commands are taken
// has them skipped and gets ctx's error; once taken they are sent.
func (j *joiner) do(ctx context.Context, fill func(redis.Pipeliner)) error {
	r := &joined{ctx: ctx, fill: fill, done: make(chan struct{})}
	j.mu.Lock()
	j.queue = append(j.queue, r)
	lead := j.running < maxPipelines
	if lead {
		j.running++
	}
	j.mu.Unlock()
	if lead {
		j.send()
	}
	<-r.done
	if !r.sent {
		return ctx.Err()
	}
	return nil
}

// send sends one pipeline of what is queued; what is still queued after
// it is handed to a goroutine of its own, so that a caller is held up by
// one round trip at most.
func (j *joiner) send() {
	j.mu.Lock()
	n := min(len(j.queue), maxPipelineCmds)
	batch := make([]*joined, n)
	copy(batch, j.queue)
	j.queue = j.queue[n:]
	j.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), pipelineTimeout)
	p := j.client.Pipeline()
	for _, r := range batch {
		if r.ctx.Err() == nil {
			r.fill(p)
			r.sent = true
		}
	}
	if p.Len() > 0 {
		_, _ = p.Exec(ctx) // each command holds its own error
	}
	cancel()
	for _, r := range batch {
		close(r.done)
	}

	j.mu.Lock()
	if len(j.queue) > 0 {
		j.mu.Unlock()
		go j.send()
		return
	}
	j.running--
	j.mu.Unlock()
}
