package daemon

import (
	"context"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hemostat/hemostat/host/config"
	"github.com/hemostat/hemostat/internal/testenv"
)

// TestRedisBackRetakesTheLease: a daemon whose lease lapsed while Redis
// was away, and whose Redis came back empty, is active again as soon as
// the bus says Redis is back — before it hears anything — not at the
// lease's next turn; while another daemon holds the lease, it stays a
// standby.
func TestRedisBackRetakesTheLease(t *testing.T) {
	srv := testenv.StartRedis(t)
	rdb := srv.Client(t)
	ctx := context.Background()
	cfg := config.Lease{Enabled: true, TTL: time.Second}

	s := newStandby(prometheus.NewRegistry(), hclog.NewNullLogger())
	// Run is not started: no renewal, so the lease lapses by the clock,
	// as it does while Redis is unreachable.
	s.start(ctx, cfg, rdb, false, "rack-1")
	first := s.generation()
	if !s.active() || first == 0 {
		t.Fatalf("a daemon alone did not take its lease at start (generation %d)", first)
	}
	// Past the TTL by more than Redis's millisecond clock: the key it
	// expires at the SET's arrival plus the TTL may still be there within
	// that millisecond, while this daemon's own view has already lapsed.
	time.Sleep(cfg.TTL + 20*time.Millisecond)
	if s.active() {
		t.Fatal("the lease did not lapse unrenewed")
	}

	// Another daemon took it meanwhile: Redis being back changes nothing.
	other := newStandby(prometheus.NewRegistry(), hclog.NewNullLogger())
	other.start(ctx, config.Lease{Enabled: true, TTL: time.Minute}, rdb, false, "rack-1")
	if !other.active() {
		t.Fatal("the other daemon did not take the vacant lease")
	}
	s.redisBack(ctx)
	if s.active() {
		t.Fatal("Redis back: a standby took a lease another daemon holds")
	}

	// Redis restarted empty: the lease is vacant, and taken again at once.
	if err := rdb.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	s.redisBack(ctx)
	if !s.active() {
		t.Fatal("Redis back with the lease vacant: the daemon is still a standby")
	}
	if err := s.fence(ctx); err != nil {
		t.Errorf("the lease taken again does not pass the fence: %v", err)
	}
}

// TestWhileActiveOpensANewTermAfresh: a lease lost and taken again under
// a new term before the runner noticed the loss — what it heard
// between the two was dropped as a standby's — restarts the run, so that
// the monitor's watch opens afresh and its first sync finds what exited
// meanwhile.
func TestWhileActiveOpensANewTermAfresh(t *testing.T) {
	srv := testenv.StartRedis(t)
	rdb := srv.Client(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := config.Lease{Enabled: true, TTL: time.Second}
	s := newStandby(prometheus.NewRegistry(), hclog.NewNullLogger())
	// Run is not started: the lease lapses by the clock, unannounced, as
	// it does while Redis is unreachable.
	s.start(ctx, cfg, rdb, false, "rack-1")
	starts := make(chan struct{}, 4)
	done := make(chan error, 1)
	go func() {
		done <- s.whileActive(func(ctx context.Context) error {
			starts <- struct{}{}
			<-ctx.Done()
			return nil
		})(ctx)
	}()
	next := func(what string) {
		t.Helper()
		select {
		case <-starts:
		case <-time.After(10 * time.Second):
			t.Fatalf("the run was not started %s", what)
		}
	}
	next("while active")
	time.Sleep(cfg.TTL)
	if err := rdb.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	// Redis restarted empty: the lease is taken again under generation
	// 1 again, a new term all the same.
	s.redisBack(ctx)
	next("afresh for the new term")
	cancel()
	if err := <-done; err != nil {
		t.Errorf("whileActive returned %v at the end", err)
	}
}
