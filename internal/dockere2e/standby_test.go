package dockere2e

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/config"
	"github.com/hemostat/hemostat/host/lease"
	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/daemontest"
	"github.com/hemostat/hemostat/internal/testenv"
)

// leaseTTL is the lease's default, which these daemons run with.
const leaseTTL = config.DefaultLeaseTTL

// holderPID is the PID of the daemon named in the engine's lease, 0 when
// nobody holds it.
func holderPID(t testing.TB, rdb *redis.Client) int {
	t.Helper()
	keys, err := rdb.Keys(context.Background(), lease.Key("*")).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		v, err := rdb.Get(context.Background(), k).Result()
		if err != nil {
			continue
		}
		// <host>:<pid>:<generation>
		parts := strings.Split(v, ":")
		if len(parts) < 3 {
			t.Fatalf("lease %s = %q, want <host>:<pid>:<generation>", k, v)
		}
		pid, _ := strconv.Atoi(parts[len(parts)-2])
		return pid
	}
	return 0
}

// waitHolder waits until the lease names one of want and returns it, and
// how long that took.
func waitHolder(t testing.TB, rdb *redis.Client, timeout time.Duration, want ...*daemontest.Daemon) (*daemontest.Daemon, time.Duration) {
	t.Helper()
	start := time.Now()
	for time.Since(start) < timeout {
		pid := holderPID(t, rdb)
		for _, d := range want {
			if d.PID() == pid {
				return d, time.Since(start)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no expected daemon took the lease within %s (holder pid %d)", timeout, holderPID(t, rdb))
	return nil, 0
}

// startSharingRedis starts a hemostatd on the shared engine with the
// given Redis — one of several that elect who acts through the lease —
// its scope limited to this scenario's containers; tune adjusts its
// settings.
func startSharingRedis(t *testing.T, srv *testenv.RedisServer, prefix string, tune func(*settings)) *daemontest.Daemon {
	t.Helper()
	s := newSettings()
	if tune != nil {
		tune(&s)
	}
	s.Redis = srv.Addr()
	s.HTTP = daemontest.FreeAddr(t)
	s.Plugins = filepath.Join(t.TempDir(), "plugins")
	s.Excludes = scopeExcludes(prefix)
	return daemontest.Start(t, daemontest.Options{Config: s.render(t), HTTP: s.HTTP})
}

// elected waits until one of a and b holds the engine's lease, and
// returns it and the other.
func elected(t *testing.T, rdb *redis.Client, timeout time.Duration, a, b *daemontest.Daemon) (active, standby *daemontest.Daemon) {
	t.Helper()
	if first, _ := waitHolder(t, rdb, timeout, a, b); first == b {
		return b, a
	}
	return a, b
}

// crashOnce is a container that exits 3 two seconds after its first start
// and runs on after a restart: one crash, one action to count.
var crashOnce = []string{"--exit", "3", "--after", "2s", "--exit-once", "/tmp/crashed"}

// TestStandbyDaemons: hemostatd processes on the same engine sharing one
// redis-server. Exactly one acts: a crash is restarted once, not twice.
// SIGKILL the active one: the standby takes over within the lease's ttl
// and heals the next crash. SIGSTOP the new active one past its lease, crash
// a container, SIGCONT: only the daemon that took over acted, and the woken
// one stands by.
func TestStandbyDaemons(t *testing.T) {
	e := newEngine(t)
	p := scenarioPrefix()
	srv := testenv.StartRedis(t)
	rdb := srv.Client(t)
	w := daemontest.Watch(t, rdb)
	start := func() *daemontest.Daemon { return startSharingRedis(t, srv, p, nil) }
	first, second := elected(t, rdb, 2*leaseTTL, start(), start())
	if !strings.Contains(second.Logs(), "standing by") {
		t.Errorf("the second daemon's log does not say it stands by")
	}

	// One crash, one restart.
	name1 := p + "one"
	id1 := e.run(t, name1, crashOnce, nil, nil)
	before := e.startedAt(t, id1)
	w.WaitFor(t, completeType, name1, daemontest.StatusIs("success"), 60*time.Second)
	e.expectRestarted(t, id1, before)
	w.Quiet(t, name1, 3*time.Second, 30*time.Second)
	if n := w.Count(completeType, name1); n != 1 {
		t.Fatalf("%d remediation_complete for %s, want exactly 1:\n%s", n, name1, w.Dump(name1))
	}
	if n := w.Count(neededType, name1); n != 1 {
		t.Errorf("%d remediation_needed for %s, want 1 (judged once)", n, name1)
	}

	// SIGKILL the active: the standby takes over within the ttl.
	first.StopWith(syscall.SIGKILL)
	_, took := waitHolder(t, rdb, 3*leaseTTL, second)
	t.Logf("handover after SIGKILL: %s, %.2f× the lease ttl (%s); loaded machine", took.Round(time.Millisecond), took.Seconds()/leaseTTL.Seconds(), leaseTTL)
	name2 := p + "two"
	id2 := e.run(t, name2, crashOnce, nil, nil)
	before = e.startedAt(t, id2)
	w.WaitFor(t, completeType, name2, daemontest.StatusIs("success"), 60*time.Second)
	e.expectRestarted(t, id2, before)

	// A third daemon stands by; the active one is paused past its lease.
	c := start()
	time.Sleep(leaseTTL / 3) // its first try is made, and fails
	if pid := holderPID(t, rdb); pid != second.PID() {
		t.Fatalf("lease holder pid %d after a third daemon started, want %d", pid, second.PID())
	}
	if err := syscall.Kill(second.PID(), syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	resumed := false
	resume := func() {
		if !resumed {
			resumed = true
			syscall.Kill(second.PID(), syscall.SIGCONT)
		}
	}
	t.Cleanup(resume)
	_, took = waitHolder(t, rdb, 3*leaseTTL, c)
	t.Logf("takeover from a SIGSTOPped holder: %s, %.2f× the lease ttl", took.Round(time.Millisecond), took.Seconds()/leaseTTL.Seconds())
	name3 := p + "three"
	id3 := e.run(t, name3, crashOnce, nil, nil)
	before = e.startedAt(t, id3)
	w.WaitFor(t, completeType, name3, daemontest.StatusIs("success"), 60*time.Second)
	e.expectRestarted(t, id3, before)
	resume()
	// The woken daemon has its crash event queued in its monitor's stream
	// and may hear requests: it must act on none of it.
	w.Quiet(t, name3, 5*time.Second, 60*time.Second)
	if n := w.Count(completeType, name3); n != 1 {
		t.Fatalf("%d remediation_complete for %s, want exactly 1:\n%s", n, name3, w.Dump(name3))
	}
	if n := w.Count(alertType, name3); n != 1 {
		t.Errorf("%d health_alert for %s, want 1: the woken daemon's monitor must not report", n, name3)
	}
	if pid := holderPID(t, rdb); pid != c.PID() {
		t.Errorf("lease holder pid %d after the paused daemon woke, want %d", pid, c.PID())
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(second.Logs(), "lease lost") && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(second.Logs(), "lease lost") {
		t.Errorf("the woken daemon's log does not say it lost the lease")
	}
	if strings.Contains(second.Logs(), name3) && strings.Contains(second.Logs(), "remediation") {
		for _, l := range strings.Split(second.Logs(), "\n") {
			if strings.Contains(l, name3) && strings.Contains(l, "remediation") {
				t.Errorf("the woken daemon logged a remediation of %s: %s", name3, l)
			}
		}
	}
}

// TestStandbyHealsACrashNobodyWatched: the active daemon is SIGKILLed, and
// before the standby takes the lease over a container starts and crashes.
// No monitor saw it run, so its exit is not compared with a known running
// state: the standby judges it by the mark the dead daemon's monitor left
// in Redis — it exited after the engine was last watched — and heals it.
func TestStandbyHealsACrashNobodyWatched(t *testing.T) {
	e := newEngine(t)
	p := scenarioPrefix()
	srv := testenv.StartRedis(t)
	rdb := srv.Client(t)
	w := daemontest.Watch(t, rdb)
	// A long lease: the crash must come before the standby's takeover,
	// however slow the machine.
	const ttl = 15 * time.Second
	long := func(s *settings) { s.LeaseTTL = ttl.String() }
	first, second := elected(t, rdb, 2*ttl, startSharingRedis(t, srv, p, long), startSharingRedis(t, srv, p, long))
	// The active monitor has watched and said so.
	deadline := time.Now().Add(30 * time.Second)
	for {
		keys, err := rdb.Keys(t.Context(), protocol.WatchedKey("*")).Result()
		if err == nil && len(keys) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no watch mark in Redis 30 s after the lease was taken: %v, %v", keys, err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	first.StopWith(syscall.SIGKILL)
	name := p + "unwatched"
	id := e.run(t, name, []string{"--exit", "3", "--after", "300ms", "--exit-once", "/tmp/crashed"}, nil, nil)
	crashed := e.waitState(t, id, "exited", exited, 30*time.Second)
	if pid := holderPID(t, rdb); pid == second.PID() {
		t.Fatalf("the standby held the lease before the container crashed; the crash was watched, and this scenario tests nothing")
	}
	_, took := waitHolder(t, rdb, 3*ttl, second)
	t.Logf("the standby took the lease %s after the crash", took.Round(time.Millisecond))
	w.WaitFor(t, completeType, name, daemontest.StatusIs("success"), 60*time.Second)
	e.expectRestarted(t, id, crashed.State.StartedAt)
	w.Quiet(t, name, 3*time.Second, 30*time.Second)
	w.ExpectTrace(t, name,
		"health_alert Exited with code 3",
		"remediation_needed restart",
		"remediation_complete restart success")
}
