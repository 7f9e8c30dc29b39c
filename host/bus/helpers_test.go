package bus

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/host/redisconn"
	"github.com/hemostat/hemostat/internal/testenv"
)

// waitTimeout bounds every wait in these tests; reaching it is a failure,
// not a measurement.
const waitTimeout = 20 * time.Second

// backend is a Redis the tests run against.
type backend struct {
	name string
	open func(t *testing.T) redis.UniversalClient
}

var backends = []backend{
	{"redis-server", func(t *testing.T) redis.UniversalClient {
		return testenv.StartRedis(t).Client(t)
	}},
	{"cluster", func(t *testing.T) redis.UniversalClient {
		return testenv.StartCluster(t).Client(t)
	}},
	{"embedded", func(t *testing.T) redis.UniversalClient {
		client, closer, err := redisconn.Open(context.Background(), redisconn.Config{}, hclog.NewNullLogger())
		if err != nil {
			t.Fatalf("open embedded redis: %v", err)
		}
		t.Cleanup(func() { closer.Close() })
		return client
	}},
}

// forEachBackend runs test against a real redis-server, a real Redis
// Cluster and the embedded Redis.
func forEachBackend(t *testing.T, test func(t *testing.T, client redis.UniversalClient)) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) { test(t, be.open(t)) })
	}
}

func testLogger(t testing.TB) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: t.Name(), Level: hclog.Warn, Output: hclog.DefaultOutput})
}

// newBus returns a Bus closed at the end of the test.
func newBus(t testing.TB, client redis.UniversalClient, opts Options) *Bus {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	b := New(client, opts)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		b.Close(ctx)
	})
	return b
}

// startRun runs b.Run in the background and returns a function that
// stops it and returns its error. Run is also stopped at the end of the
// test.
func startRun(t testing.TB, b *Bus) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- b.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-errc:
			case <-time.After(waitTimeout):
				err = errors.New("Run did not return after its context ended")
			}
		})
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}

// waitSubscribed waits until n connections subscribe to the channel of
// each event type.
func waitSubscribed(t testing.TB, client redis.UniversalClient, n int64, eventTypes ...string) {
	t.Helper()
	waitFor(t, "subscriptions to "+strings.Join(eventTypes, ", "), func() bool {
		for _, et := range eventTypes {
			counts, err := client.PubSubNumSub(context.Background(), protocol.Channel(et)).Result()
			if err != nil || counts[protocol.Channel(et)] < n {
				return false
			}
		}
		return true
	})
}

// waitFor polls cond until it holds, failing the test after waitTimeout;
// the failure adds what each state function says of where things stand.
func waitFor(t testing.TB, what string, cond func() bool, state ...func() string) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			var now []string
			for _, s := range state {
				now = append(now, s())
			}
			t.Fatalf("timed out after %s waiting for %s %v", waitTimeout, what, now)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// collector is a Handler that keeps what it receives.
type collector struct {
	mu   sync.Mutex
	envs []protocol.Envelope
}

func (c *collector) handle(_ context.Context, env protocol.Envelope) {
	c.mu.Lock()
	c.envs = append(c.envs, env)
	c.mu.Unlock()
}

func (c *collector) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.envs)
}

func (c *collector) all() []protocol.Envelope {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]protocol.Envelope(nil), c.envs...)
}

// rawSubscriber records every payload published on some channels, as any
// third-party agent would see them.
type rawSubscriber struct {
	mu       sync.Mutex
	payloads []string
}

func subscribeRaw(t testing.TB, client redis.UniversalClient, eventTypes ...string) *rawSubscriber {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	channels := make([]string, len(eventTypes))
	for i, et := range eventTypes {
		channels[i] = protocol.Channel(et)
	}
	ps := client.Subscribe(ctx, channels...)
	if _, err := ps.Receive(ctx); err != nil {
		t.Fatalf("raw subscribe: %v", err)
	}
	s := &rawSubscriber{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			msg, err := ps.ReceiveMessage(ctx)
			if err != nil {
				return
			}
			s.mu.Lock()
			s.payloads = append(s.payloads, msg.Payload)
			s.mu.Unlock()
		}
	}()
	t.Cleanup(func() { cancel(); ps.Close(); <-done })
	return s
}

func (s *rawSubscriber) all() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.payloads...)
}

// testenvClient is a client to a fresh real redis-server.
func testenvClient(t *testing.T) *redis.Client { return testenv.StartRedis(t).Client(t) }

// flushAll empties the server, or every master of a cluster: a cluster
// client's FLUSHALL reaches one node only.
func flushAll(t testing.TB, client redis.UniversalClient) {
	t.Helper()
	ctx := context.Background()
	var err error
	if c, ok := client.(*redis.ClusterClient); ok {
		err = c.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error { return m.FlushAll(ctx).Err() })
	} else {
		err = client.FlushAll(ctx).Err()
	}
	if err != nil {
		t.Fatalf("FLUSHALL: %v", err)
	}
}
