package bus

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/internal/testenv"
)

// TestJoiner: many concurrent callers each get their own replies, in
// fewer pipelines than callers; a caller whose context ended before its
// turn sends nothing.
func TestJoiner(t *testing.T) {
	client := testenv.StartRedis(t).Client(t)
	ctx := context.Background()
	var pipelines int
	var mu sync.Mutex
	client.AddHook(countPipelines{func() { mu.Lock(); pipelines++; mu.Unlock() }})
	j := &joiner{client: client}
	const n = 2000
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := fmt.Sprintf("joiner:%d", i)
			var set *redis.StatusCmd
			var get *redis.StringCmd
			if err := j.do(ctx, func(p redis.Pipeliner) {
				set = p.Set(ctx, key, i, 0)
				get = p.Get(ctx, key)
			}); err != nil {
				t.Errorf("%s: %v", key, err)
				return
			}
			if v, err := get.Int(); set.Err() != nil || err != nil || v != i {
				t.Errorf("%s: set %v, get %d %v", key, set.Err(), v, err)
			}
		}()
	}
	wg.Wait()
	mu.Lock()
	t.Logf("%d callers in %d pipelines", n, pipelines)
	if pipelines >= n {
		t.Errorf("%d callers took %d pipelines: nothing was joined", n, pipelines)
	}
	mu.Unlock()

	// A missing key is the command's own error, not the call's.
	var get *redis.StringCmd
	if err := j.do(ctx, func(p redis.Pipeliner) { get = p.Get(ctx, "joiner:none") }); err != nil || get.Err() != redis.Nil {
		t.Errorf("missing key: call %v, command %v", err, get.Err())
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	filled := false
	if err := j.do(cancelled, func(p redis.Pipeliner) { filled = true; p.Set(ctx, "joiner:late", 1, 0) }); err == nil || filled {
		t.Errorf("cancelled caller: err %v, filled %v", err, filled)
	}
	if n, _ := client.Exists(ctx, "joiner:late").Result(); n != 0 {
		t.Error("a cancelled caller's command was sent")
	}
}

// countPipelines is a go-redis hook calling fn for each pipeline sent.
type countPipelines struct{ fn func() }

func (countPipelines) DialHook(next redis.DialHook) redis.DialHook { return next }

func (countPipelines) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }

func (h countPipelines) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.fn()
		return next(ctx, cmds)
	}
}
