package bus

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/testenv"
)

// gatedCollector is a handler held up on purpose: it handles nothing
// until released, as an analyzer taking seconds per call would.
type gatedCollector struct {
	collector
	gate chan struct{}
}

func newGatedCollector() *gatedCollector { return &gatedCollector{gate: make(chan struct{})} }

func (g *gatedCollector) handle(ctx context.Context, env protocol.Envelope) {
	select {
	case <-g.gate:
	case <-ctx.Done():
		return
	}
	g.collector.handle(ctx, env)
}

func (g *gatedCollector) release() { close(g.gate) }

// containers lists the container of every envelope handled, in order.
func (g *gatedCollector) containers(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, env := range g.all() {
		var a protocol.HealthAlert
		if err := protocol.DecodeData(env, &a); err != nil {
			t.Fatal(err)
		}
		out = append(out, a.Container)
	}
	return out
}

// publishAlerts publishes n distinct health alerts through pub, padded
// so that each envelope is about size bytes, and writes the event log.
func publishAlerts(t *testing.T, pub *Bus, n, size int) {
	t.Helper()
	ctx := context.Background()
	pad := strings.Repeat("x", max(size-300, 0))
	for i := range n {
		data := protocol.HealthAlert{Container: fmt.Sprintf("c%05d", i), Issues: []string{"Exited with code 1", pad}}
		if _, err := pub.Publish(ctx, protocol.AgentMonitor, protocol.TypeHealthAlert, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := pub.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestSlowHandlerLosesNothing holds the handler up while a burst several
// times the dispatch queue arrives: the bus stops reading instead of
// dropping, Redis buffers the rest, and every envelope is handled in order
// once the handler moves again.
func TestSlowHandlerLosesNothing(t *testing.T) {
	srv := testenv.StartRedis(t)
	client := srv.Client(t)
	b := newBus(t, client, Options{})
	got := newGatedCollector()
	b.Subscribe(protocol.TypeHealthAlert, got.handle)
	startRun(t, b)
	waitSubscribed(t, client, 1, protocol.TypeHealthAlert)

	const n = 5 * dispatchQueue
	publishAlerts(t, newBus(t, srv.Client(t), Options{}), n, 300)
	got.release()
	waitFor(t, "every envelope handled", func() bool { return got.len() == n })

	for i, c := range got.containers(t) {
		if want := fmt.Sprintf("c%05d", i); c != want {
			t.Fatalf("envelope %d is for %s, want %s: order lost", i, c, want)
		}
	}
	if v := counterValue(t, b.metrics.reconnects); v != 0 {
		t.Errorf("reconnects = %v; the burst fits Redis's default output buffer", v)
	}
}

// TestOutputBufferCutReplaysAndCountsLoss lets Redis cut a subscriber that
// stopped reading (client-output-buffer-limit pubsub): the bus reconnects,
// replays what the event log still holds, and counts the rest as lost and
// logs it once. Handled plus lost is exactly what was published.
func TestOutputBufferCutReplaysAndCountsLoss(t *testing.T) {
	srv := testenv.StartRedis(t, "--client-output-buffer-limit", "pubsub 256kb 128kb 1")
	client := srv.Client(t)
	var logs syncBuffer
	logger := hclog.New(&hclog.LoggerOptions{Level: hclog.Info, Output: &logs})
	b := newBus(t, client, Options{Logger: logger})
	got := newGatedCollector()
	b.Subscribe(protocol.TypeHealthAlert, got.handle)
	startRun(t, b)
	waitSubscribed(t, client, 1, protocol.TypeHealthAlert)

	// ≈10 MB: more than the loopback socket buffers and the 256 KB limit.
	const n = 8000
	publishAlerts(t, newBus(t, srv.Client(t), Options{}), n, 1300)
	got.release()
	waitFor(t, "the reconnect", func() bool { return counterValue(t, b.metrics.reconnects) == 1 })
	waitFor(t, "the loss counted", func() bool {
		return counterValue(t, b.metrics.lost.WithLabelValues(protocol.TypeHealthAlert)) > 0
	})
	lost := int(counterValue(t, b.metrics.lost.WithLabelValues(protocol.TypeHealthAlert)))
	deadline := time.Now().Add(waitTimeout)
	for got.len()+lost < n {
		if time.Now().After(deadline) {
			t.Fatalf("handled %d + lost %d of %d published after %s; log:\n%s", got.len(), lost, n, waitTimeout, logs.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)

	containers := got.containers(t)
	if len(containers)+lost != n {
		t.Errorf("handled %d + lost %d = %d, want the %d published", len(containers), lost, len(containers)+lost, n)
	}
	// What the log held is replayed: the newest envelopes all arrive.
	tail := containers[len(containers)-protocol.EventLogMax:]
	for i, c := range tail {
		if want := fmt.Sprintf("c%05d", n-protocol.EventLogMax+i); c != want {
			t.Fatalf("replayed envelope %d is for %s, want %s", i, c, want)
		}
	}
	seen := map[string]bool{}
	for _, c := range containers {
		if seen[c] {
			t.Fatalf("%s handled twice", c)
		}
		seen[c] = true
	}
	if c := strings.Count(logs.String(), "envelopes lost"); c != 1 {
		t.Errorf("loss logged %d times, want once:\n%s", c, logs.String())
	}
	if !strings.Contains(logs.String(), fmt.Sprintf("count=%d", lost)) {
		t.Errorf("loss log does not give the count %d:\n%s", lost, logs.String())
	}
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}
