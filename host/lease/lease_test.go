package lease

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/redisconn"
	"github.com/hemostat/hemostat/internal/testenv"
)

// testTTL is long enough that a stall of a loaded CI machine running the
// race detector does not lapse a lease its holder renews every third of it.
const testTTL = time.Second

// transitions records a lease's OnChange calls.
type transitions struct {
	mu  sync.Mutex
	got []int64 // generation when active, 0 when standby
}

func (tr *transitions) on(active bool, gen int64) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if !active {
		gen = 0
	}
	tr.got = append(tr.got, gen)
}

func (tr *transitions) list() []int64 {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]int64(nil), tr.got...)
}

func newLease(c redis.UniversalClient, host, holder string, tr *transitions) *Lease {
	opts := Options{Client: c, Host: host, Holder: holder, TTL: testTTL}
	if tr != nil {
		opts.OnChange = tr.on
	}
	return New(opts)
}

// start runs l until the returned stop is called (which waits for Run to
// return, releasing the lease) or the test ends.
func start(t *testing.T, l *Lease) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := l.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * testTTL)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func active(ls ...*Lease) (n int, which *Lease) {
	for _, l := range ls {
		if _, ok := l.Active(); ok {
			n, which = n+1, l
		}
	}
	return n, which
}

// exactlyOneThenHandover: of two daemons one is active; when it stops
// cleanly the other takes over under the next generation, and the lease's
// value names it.
func exactlyOneThenHandover(t *testing.T, c redis.UniversalClient, host string) {
	ctx := context.Background()
	var tra, trb transitions
	a, b := newLease(c, host, "a:1", &tra), newLease(c, host, "b:2", &trb)
	stopA := start(t, a)
	waitFor(t, "a to take the lease", func() bool { _, ok := a.Active(); return ok })
	stopB := start(t, b)
	// b polls through several periods and never becomes active.
	for i := 0; i < 4; i++ {
		time.Sleep(testTTL / 3)
		if n, _ := active(a, b); n != 1 {
			t.Fatalf("%d daemons active, want exactly one", n)
		}
		if _, ok := b.Active(); ok {
			t.Fatal("the standby took a held lease")
		}
	}
	genA, _ := a.Active()
	if err := a.Check(ctx, genA); err != nil {
		t.Fatalf("Check of the holder: %v", err)
	}
	if err := b.Check(ctx, genA); !errors.Is(err, ErrNotHeld) {
		t.Fatalf("Check of the standby = %v, want ErrNotHeld", err)
	}
	if v := c.Get(ctx, Key(host)).Val(); v != "a:1:"+strconv.FormatInt(genA, 10) {
		t.Fatalf("lease value %q, want a:1:%d", v, genA)
	}
	stopA()
	waitFor(t, "b to take over", func() bool { _, ok := b.Active(); return ok })
	genB, _ := b.Active()
	if genB != genA+1 {
		t.Fatalf("b took generation %d, want %d", genB, genA+1)
	}
	if got := tra.list(); len(got) != 2 || got[0] != genA || got[1] != 0 {
		t.Fatalf("a's transitions %v, want [%d 0]", got, genA)
	}
	stopB()
	if n := c.Exists(ctx, Key(host)).Val(); n != 0 {
		t.Fatal("a clean stop left the lease in Redis")
	}
	if got := trb.list(); len(got) != 2 || got[0] != genB || got[1] != 0 {
		t.Fatalf("b's transitions %v, want [%d 0]", got, genB)
	}
}

func TestLeaseSingleRedis(t *testing.T) {
	exactlyOneThenHandover(t, testenv.StartRedis(t).Client(t), "engine-1")
}

func TestLeaseCluster(t *testing.T) {
	cl := testenv.StartCluster(t)
	c := cl.Client(t)
	ctx := context.Background()
	// The scripts touch the lease and its counter: one slot.
	if a, b := c.ClusterKeySlot(ctx, Key("engine-1")).Val(), c.ClusterKeySlot(ctx, GenKey("engine-1")).Val(); a != b {
		t.Fatalf("lease key in slot %d, generation key in slot %d", a, b)
	}
	exactlyOneThenHandover(t, c, "engine-1")
}

func TestLeaseSentinel(t *testing.T) {
	master := testenv.StartRedis(t)
	sentinel := testenv.StartSentinel(t, "hemostat-master", master)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, closer, err := redisconn.Open(ctx, redisconn.Config{Addresses: []string{sentinel.Addr()}, SentinelMaster: "hemostat-master"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	exactlyOneThenHandover(t, c, "engine-1")
}

// TestLeasePausedHolder: a holder that stops renewing without releasing
// (as a SIGSTOPped daemon does) loses the lease by its own clock before
// Redis lets it go; the standby takes it under a new generation, and the
// old holder neither passes Check nor extends the new lease on waking.
func TestLeasePausedHolder(t *testing.T) {
	c := testenv.StartRedis(t).Client(t)
	ctx := context.Background()
	var tra transitions
	// A wide margin: the check that Redis still holds the lease when a's
	// view ends must not depend on how fast this test is scheduled.
	a := New(Options{Client: c, Host: "engine-1", Holder: "a:1", TTL: 2 * time.Second, Margin: time.Second, OnChange: tra.on})
	a.acquire(ctx) // and never renewed: a is paused from here on
	genA, ok := a.Active()
	if !ok {
		t.Fatal("a did not take a free lease")
	}
	// a's view ends before Redis's: no moment in which both are active.
	waitFor(t, "a's view of the lease to end", func() bool { _, ok := a.Active(); return !ok })
	if n := c.Exists(ctx, Key("engine-1")).Val(); n != 1 {
		t.Fatal("the lease expired in Redis before the holder stopped acting on it")
	}
	b := newLease(c, "engine-1", "b:2", nil)
	start(t, b)
	waitFor(t, "b to take over", func() bool { _, ok := b.Active(); return ok })
	// a wakes up.
	if err := a.Check(ctx, genA); !errors.Is(err, ErrNotHeld) {
		t.Fatalf("Check of the woken holder = %v, want ErrNotHeld", err)
	}
	a.renew(ctx)
	if _, ok := a.Active(); ok {
		t.Fatal("the woken holder is active again")
	}
	genB, _ := b.Active()
	if v := c.Get(ctx, Key("engine-1")).Val(); v != "b:2:"+strconv.FormatInt(genB, 10) || genB <= genA {
		t.Fatalf("lease %q after a woke, want b's under a generation above %d", v, genA)
	}
	if got := tra.list(); len(got) != 2 || got[1] != 0 {
		t.Fatalf("a's transitions %v, want active then standby", got)
	}
}

// TestLeaseCheckSeesRedis: a lease gone from Redis (a failover that lost
// it, a DEL by hand) fails Check at once, before the holder's clock says so.
func TestLeaseCheckSeesRedis(t *testing.T) {
	c := testenv.StartRedis(t).Client(t)
	ctx := context.Background()
	a := newLease(c, "engine-1", "a:1", nil)
	a.acquire(ctx)
	gen, ok := a.Active()
	if !ok {
		t.Fatal("a did not take a free lease")
	}
	if err := a.Check(ctx, gen); err != nil {
		t.Fatalf("Check: %v", err)
	}
	if err := a.Check(ctx, gen+1); !errors.Is(err, ErrNotHeld) {
		t.Fatalf("Check of another generation = %v, want ErrNotHeld", err)
	}
	c.Del(ctx, Key("engine-1"))
	if err := a.Check(ctx, gen); !errors.Is(err, ErrNotHeld) || !errors.Is(err, ErrVacant) {
		t.Fatalf("Check of a deleted lease = %v, want ErrNotHeld and ErrVacant", err)
	}
	// Taken again at once, under the next generation, and the old one is
	// refused from then on.
	regen, ok := a.Retake(ctx)
	if !ok || regen != gen+1 {
		t.Fatalf("Retake = %d, %v; want generation %d", regen, ok, gen+1)
	}
	if err := a.Check(ctx, regen); err != nil {
		t.Fatalf("Check after Retake: %v", err)
	}
	if err := a.Check(ctx, gen); !errors.Is(err, ErrNotHeld) {
		t.Fatalf("Check of the old generation after Retake = %v, want ErrNotHeld", err)
	}
	// A lease another daemon holds is not retaken.
	c.Set(ctx, Key("engine-1"), "b:1:9", time.Minute)
	if err := a.Check(ctx, regen); !errors.Is(err, ErrNotHeld) || errors.Is(err, ErrVacant) || !strings.Contains(err.Error(), "b:1:9") {
		t.Fatalf("Check of another's lease = %v, want ErrNotHeld naming it", err)
	}
	if g, _ := a.Retake(ctx); a.Check(ctx, g) == nil {
		t.Fatal("Retake took a lease another daemon holds")
	}
}

// TestLeaseHostsIndependent: each engine host has its own lease.
func TestLeaseHostsIndependent(t *testing.T) {
	c := testenv.StartRedis(t).Client(t)
	a, b := newLease(c, "engine-1", "a:1", nil), newLease(c, "engine-2", "b:2", nil)
	start(t, a)
	start(t, b)
	waitFor(t, "both hosts' daemons to be active", func() bool { n, _ := active(a, b); return n == 2 })
}
