package bus

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/testenv"
)

// TestStreamsGivesUpAPoisonEntry: an entry whose work never ends — the
// consumer dies with it each time, and comes back under the same name —
// is handed on maxDeliveries times, then logged, counted, acknowledged and
// skipped; the entry after it is handled.
func TestStreamsGivesUpAPoisonEntry(t *testing.T) {
	client := testenvClient(t)
	var handled atomic.Int64
	var givenUp float64
	for round := 1; round <= maxDeliveries+1; round++ {
		b := streamsBus(t, client, "c1")
		got := make(chan struct{}, 1)
		b.Subscribe("health_alert", func(ctx context.Context, _ protocol.Envelope) {
			Hold(ctx) // never released: the work dies with the consumer
			handled.Add(1)
			got <- struct{}{}
		})
		if err := b.Prepare(context.Background()); err != nil {
			t.Fatal(err)
		}
		stop := startRun(t, b)
		if round == 1 {
			publishN(t, b, "health_alert", 1)
		}
		if round <= maxDeliveries {
			select {
			case <-got:
			case <-time.After(waitTimeout):
				t.Fatalf("round %d: the entry was not handed on", round)
			}
			stop()
			b.Close(context.Background())
			continue
		}
		// The last round: given up, and what follows is handled.
		waitFor(t, "the poison entry given up", func() bool {
			givenUp = counterValue(t, b.metrics.givenUp.WithLabelValues("health_alert"))
			return givenUp == 1
		})
		waitFor(t, "the poison entry acknowledged", func() bool { return pendingCount(t, client, "health_alert") == 0 })
		publishN(t, b, "health_alert", 1)
		select {
		case <-got:
		case <-time.After(waitTimeout):
			t.Fatal("the entry after the poison one was not handled")
		}
	}
	if n := handled.Load(); n != maxDeliveries+1 {
		t.Errorf("handed on %d times, want %d (the poison entry %d times, then the next one)", n, maxDeliveries+1, maxDeliveries)
	}
}

// TestStreamsGroupRefusedDoesNotSpin: when the group is deleted and Redis
// refuses to create it again (an ACL without XGROUP), the reader logs it
// once and retries on its backoff instead of at once; when Redis allows
// it again the group is created and reading goes on.
func TestStreamsGroupRefusedDoesNotSpin(t *testing.T) {
	srv := testenv.StartRedis(t)
	admin := srv.Client(t)
	ctx := context.Background()
	if err := admin.Do(ctx, "ACL", "SETUSER", "limited", "on", ">pw", "~*", "&*", "+@all", "-xgroup").Err(); err != nil {
		t.Fatal(err)
	}
	limited := redis.NewClient(&redis.Options{Addr: srv.Addr(), Username: "limited", Password: "pw"})
	t.Cleanup(func() { limited.Close() })
	var commands atomic.Int64
	limited.AddHook(countCommands{&commands})

	var logs syncBuffer
	b := newBus(t, limited, Options{Delivery: DeliveryStreams, Consumer: "c1", RetryInitial: 50 * time.Millisecond,
		Logger: hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Info})})
	var c collector
	b.Subscribe("health_alert", c.handle)
	if err := admin.XGroupCreateMkStream(ctx, StreamKey("health_alert"), StreamGroup, "$").Err(); err != nil {
		t.Fatal(err)
	}
	startRun(t, b)
	publishN(t, b, "health_alert", 1)
	waitFor(t, "the first handled", func() bool { return c.len() == 1 })

	if err := admin.XGroupDestroy(ctx, StreamKey("health_alert"), StreamGroup).Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the refusal logged", func() bool { return strings.Contains(logs.String(), "cannot read the stream; retrying") })
	before := commands.Load()
	time.Sleep(2 * time.Second)
	// On the backoff (50 ms doubling, at most 2 s apart) 2 s hold a handful
	// of tries, two commands each; a spin sends thousands.
	if n := commands.Load() - before; n > 40 {
		t.Errorf("%d commands in 2 s while the group was refused: the reader spins", n)
	}
	if n := strings.Count(logs.String(), "cannot read the stream; retrying"); n != 1 {
		t.Errorf("the refusal logged %d times, want once:\n%s", n, logs.String())
	}

	if err := admin.Do(ctx, "ACL", "SETUSER", "limited", "+xgroup").Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the group created again", func() bool {
		return counterValue(t, b.metrics.groupsRecreated.WithLabelValues("health_alert")) == 1
	})
	publishN(t, b, "health_alert", 1)
	waitFor(t, "the next one handled", func() bool { return c.len() == 2 })
}

// countCommands is a go-redis hook counting the commands sent.
type countCommands struct{ n *atomic.Int64 }

func (countCommands) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h countCommands) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}

func (h countCommands) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.n.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}
