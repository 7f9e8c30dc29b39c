package bus

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/testenv"
)

func TestRunReconnectsAfterRedisRestart(t *testing.T) {
	srv := testenv.StartRedis(t)
	client := srv.Client(t)
	ctx := context.Background()
	var connMu sync.Mutex
	var conn []string
	b := newBus(t, client, Options{RetryInitial: 20 * time.Millisecond, RetryMax: 100, OnConnection: func(up bool, err error) {
		connMu.Lock()
		defer connMu.Unlock()
		if up != (err == nil) {
			t.Errorf("OnConnection(%v, %v)", up, err)
		}
		conn = append(conn, map[bool]string{true: "up", false: "down"}[up])
	}})
	var got collector
	b.Subscribe(protocol.TypeRemediationNeeded, got.handle)
	stop := startRun(t, b)
	waitSubscribed(t, client, 1, protocol.TypeRemediationNeeded)

	data := protocol.RemediationNeeded{Container: "api", Action: "restart", Confidence: 0.9}
	if _, err := b.Publish(ctx, protocol.AgentAnalyzer, protocol.TypeRemediationNeeded, data); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the first envelope", func() bool { return got.len() == 1 })

	for restart := 1; restart <= 2; restart++ {
		srv.Stop(t)
		// Let Run notice and fail a few tries before Redis is back.
		time.Sleep(100 * time.Millisecond)
		srv.Restart(t)
		waitSubscribed(t, client, 1, protocol.TypeRemediationNeeded)
		if _, err := b.Publish(ctx, protocol.AgentAnalyzer, protocol.TypeRemediationNeeded, data); err != nil {
			t.Fatalf("Publish after restart %d: %v", restart, err)
		}
		waitFor(t, "the envelope published after the restart", func() bool { return got.len() == 1+restart })
		if n := counterValue(t, b.metrics.reconnects); n != float64(restart) {
			t.Errorf("reconnects = %v after %d restarts", n, restart)
		}
	}
	if err := stop(); err != nil {
		t.Fatalf("Run returned %v, want nil when its context ends", err)
	}
	connMu.Lock()
	defer connMu.Unlock()
	if got := strings.Join(conn, ","); got != "down,up,down,up" {
		t.Errorf("OnConnection saw %s, want down,up,down,up", got)
	}
}

func TestRunGivesUpAfterRetryMax(t *testing.T) {
	srv := testenv.StartRedis(t)
	client := srv.Client(t)
	b := newBus(t, client, Options{RetryInitial: 10 * time.Millisecond, RetryMax: 3})
	b.Subscribe(protocol.TypeHealthAlert, func(context.Context, protocol.Envelope) {})
	errc := make(chan error, 1)
	go func() { errc <- b.Run(context.Background()) }()
	waitSubscribed(t, client, 1, protocol.TypeHealthAlert)

	srv.Stop(t)
	var err error
	select {
	case err = <-errc:
	case <-time.After(waitTimeout):
		t.Fatalf("Run did not give up within %s of Redis stopping", waitTimeout)
	}
	var fatal *FatalError
	if !errors.As(err, &fatal) {
		t.Fatalf("Run returned %T %v, want a *FatalError", err, err)
	}
	if fatal.Tries != 3 || fatal.Addr != srv.Addr() || fatal.Err == nil {
		t.Errorf("FatalError = %+v, want 3 tries at %s with the last error", fatal, srv.Addr())
	}
	// The waits were 10, 20 and 40 ms.
	if fatal.Elapsed < 70*time.Millisecond {
		t.Errorf("gave up after %s, before the backoff's 70 ms of waits", fatal.Elapsed)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "redis at "+srv.Addr()+" unreachable after 3 tries over ") {
		t.Errorf("message = %q", msg)
	}
}

func TestFatalErrorMessage(t *testing.T) {
	err := &FatalError{Addr: "10.0.0.5:6379", Tries: 10, Elapsed: 1023*time.Second + 2*time.Millisecond, Err: errors.New("connection refused")}
	const want = "redis at 10.0.0.5:6379 unreachable after 10 tries over 17m3s: connection refused"
	if got := err.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestRunStopsOnClose(t *testing.T) {
	client := testenvClient(t)
	b := New(client, Options{Logger: testLogger(t)})
	b.Subscribe(protocol.TypeHealthAlert, func(context.Context, protocol.Envelope) {})
	errc := make(chan error, 1)
	go func() { errc <- b.Run(context.Background()) }()
	waitSubscribed(t, client, 1, protocol.TypeHealthAlert)

	if err := b.Run(context.Background()); err == nil {
		t.Error("a second concurrent Run succeeded")
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := b.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := <-errc; err != nil {
		t.Errorf("Run returned %v after Close, want nil", err)
	}
	if err := b.Run(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Run after Close = %v, want %v", err, ErrClosed)
	}
}

func TestSlowHandlerDoesNotBlockOtherTypes(t *testing.T) {
	client := testenvClient(t)
	ctx := context.Background()
	b := newBus(t, client, Options{})
	release := make(chan struct{})
	var slow, fast collector
	b.Subscribe(protocol.TypeHealthAlert, func(ctx context.Context, env protocol.Envelope) {
		select {
		case <-release:
		case <-ctx.Done():
		}
		slow.handle(ctx, env)
	})
	b.Subscribe(protocol.TypeFalseAlarm, fast.handle)
	b.Subscribe(protocol.TypeFalseAlarm, func(context.Context, protocol.Envelope) { panic("a handler bug") })
	startRun(t, b)
	waitSubscribed(t, client, 1, protocol.TypeHealthAlert, protocol.TypeFalseAlarm)

	if _, err := b.Publish(ctx, protocol.AgentMonitor, protocol.TypeHealthAlert, map[string]string{"container": "c"}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := b.Publish(ctx, protocol.AgentAnalyzer, protocol.TypeFalseAlarm, map[string]string{"container": "c"}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "false alarms while the health_alert handler is stuck", func() bool { return fast.len() == 3 })
	if slow.len() != 0 {
		t.Fatal("the stuck handler finished before it was released")
	}
	close(release)
	waitFor(t, "the released handler", func() bool { return slow.len() == 1 })
}

func TestSubscribeWhileRunning(t *testing.T) {
	client := testenvClient(t)
	ctx := context.Background()
	b := newBus(t, client, Options{})
	startRun(t, b)
	var got collector
	b.Subscribe(protocol.TypeEscalation, got.handle)
	waitSubscribed(t, client, 1, protocol.TypeEscalation)
	if _, err := b.Publish(ctx, protocol.AgentResponder, protocol.TypeEscalation, protocol.Escalation{Container: "c"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the escalation", func() bool { return got.len() == 1 })
}

// TestReconnectFollowsRedisWithinTheCap SIGKILLs redis-server and brings it
// back after an outage long enough for the doubling backoff to reach steps
// of several seconds: the bus still resubscribes within RetryMaxWait of the
// server's return, and logs the outage it saw.
func TestReconnectFollowsRedisWithinTheCap(t *testing.T) {
	srv := testenv.StartRedis(t)
	client := srv.Client(t)
	var logs syncBuffer
	logger := hclog.New(&hclog.LoggerOptions{Level: hclog.Info, Output: &logs})
	// Scaled down from the defaults (1s doubling, 2s cap, a 40s outage):
	// uncapped, the waits 0.25, 0.5, 1, 2, 4, 8 s would next try 7.75 s
	// after the outage began, then 15.75 s.
	const outage = 8 * time.Second
	b := newBus(t, client, Options{Logger: logger, RetryInitial: 250 * time.Millisecond, RetryMaxWait: 500 * time.Millisecond, RetryMax: 10})
	b.Subscribe(protocol.TypeHealthAlert, func(context.Context, protocol.Envelope) {})
	startRun(t, b)
	waitSubscribed(t, client, 1, protocol.TypeHealthAlert)

	srv.Kill(t)
	time.Sleep(outage)
	srv.Restart(t)
	back := time.Now()
	waitSubscribed(t, client, 1, protocol.TypeHealthAlert)
	if took := time.Since(back); took > 2*time.Second {
		t.Errorf("resubscribed %s after redis-server was back; the 500ms cap allows ≈0.5s", took)
	}
	waitFor(t, "the reconnect log", func() bool { return strings.Contains(logs.String(), "reconnected to redis") })
	m := regexp.MustCompile(`reconnected to redis: .*outage=(\S+)`).FindStringSubmatch(logs.String())
	if m == nil {
		t.Fatalf("no outage figure in:\n%s", logs.String())
	}
	got, err := time.ParseDuration(m[1])
	if err != nil {
		t.Fatal(err)
	}
	if got < outage || got > outage+2*time.Second {
		t.Errorf("logged outage=%s, want the ≈%s redis-server was away", got, outage)
	}
}
