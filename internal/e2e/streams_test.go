package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/bus"
	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/daemontest"
	"github.com/hemostat/hemostat/internal/testenv"
	"github.com/hemostat/hemostat/sdk"
)

// streamsConfig is baseConfig with durable delivery; claim_min_idle is
// short so that the tests need not wait minutes for a claim.
var streamsConfig = strings.NewReplacer(
	`redis { address = "{{redis}}" }`,
	`redis {
  address        = "{{redis}}"
  delivery       = "streams"
  claim_min_idle = "5s"
}`,
	`plugin "threshold" {}`, `plugin "threshold" { timeout = "2s" }`,
).Replace(baseConfig)

// publishStreamed publishes a health_alert as an agent that speaks the
// streams extension does: PUBLISH and XADD of the same bytes.
func publishStreamed(t *testing.T, rdb *redis.Client, alert protocol.HealthAlert) {
	t.Helper()
	env, err := protocol.NewEnvelope("Test-Monitor", protocol.TypeHealthAlert, alert, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, err = rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Publish(ctx, protocol.Channel(protocol.TypeHealthAlert), raw)
		p.XAdd(ctx, &redis.XAddArgs{Stream: bus.StreamKey(protocol.TypeHealthAlert), MaxLen: bus.StreamMaxLen, Approx: true,
			Values: []any{bus.StreamField, raw}})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// remediated counts the responder plugin's actions per container.
func remediated(t *testing.T, rdb *redis.Client) map[string]int {
	t.Helper()
	var seen []sdk.RemediateRequest
	raw, err := rdb.Get(context.Background(), protocol.StateKey("e2e-remediations")).Bytes()
	if err == nil {
		if err := json.Unmarshal(raw, &seen); err != nil {
			t.Fatal(err)
		}
	}
	n := map[string]int{}
	for _, r := range seen {
		n[r.Container]++
	}
	return n
}

// checkOnce waits until each container got one decision and one action,
// then checks that nothing came twice.
func checkOnce(t *testing.T, w *daemontest.Watcher, rdb *redis.Client, containers []string) {
	t.Helper()
	for _, c := range containers {
		w.WaitFor(t, protocol.TypeRemediationComplete, c, daemontest.StatusIs("success"), 120*time.Second)
	}
	time.Sleep(3 * time.Second) // a second handling would show by now
	acts := remediated(t, rdb)
	for _, c := range containers {
		if n := w.Count(protocol.TypeRemediationNeeded, c); n != 1 {
			t.Errorf("%s: %d remediation_needed, want 1:\n%s", c, n, w.Dump(c))
		}
		if acts[c] != 1 {
			t.Errorf("%s: the responder acted %d times, want 1", c, acts[c])
		}
	}
	p, err := rdb.XPending(context.Background(), bus.StreamKey(protocol.TypeHealthAlert), bus.StreamGroup).Result()
	if err != nil || p.Count != 0 {
		t.Errorf("health_alert entries pending = %+v (%v), want none", p, err)
	}
}

// TestStreamsAnalyzerRestartHandledOnce: alerts published while the
// analyzer plugin is killed and restarted, over and over, are each judged
// and acted on exactly once when it is back.
func TestStreamsAnalyzerRestartHandledOnce(t *testing.T) {
	srv := testenv.StartRedis(t)
	d := startDaemon(t, srv, streamsConfig)
	w := daemontest.Watch(t, d.rdb)

	var containers []string
	end := time.Now().Add(4 * time.Second)
	killed := map[int]bool{}
	for i := 0; time.Now().Before(end); i++ {
		if p := findPlugin(t, d, "analyzer", "threshold"); p.PID > 0 && !killed[p.PID] {
			syscall.Kill(p.PID, syscall.SIGKILL)
			killed[p.PID] = true
		}
		if i%10 == 0 && len(killed) > 0 {
			c := fmt.Sprintf("streamed-%d", len(containers))
			containers = append(containers, c)
			publishStreamed(t, d.rdb, protocol.HealthAlert{Container: c, Issues: []string{protocol.IssueExited(3)}})
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(containers) < 3 || len(killed) < 2 {
		t.Fatalf("the outage published %d alerts and killed %d analyzers; want more", len(containers), len(killed))
	}
	checkOnce(t, w, d.rdb, containers)
	d.Alive(t)
}

// TestStreamsSIGKILLTakesUpPending: hemostatd SIGKILLed with alerts under
// way (its analyzer frozen), and more published while it is down; the
// hemostatd that comes back handles each once, and none is left pending.
func TestStreamsSIGKILLTakesUpPending(t *testing.T) {
	srv := testenv.StartRedis(t)
	d := startDaemon(t, srv, streamsConfig)
	w := daemontest.Watch(t, d.rdb)

	p := findPlugin(t, d, "analyzer", "threshold")
	if err := syscall.Kill(p.PID, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(p.PID, syscall.SIGCONT) })
	var containers []string
	for i := range 4 {
		c := fmt.Sprintf("in-flight-%d", i)
		containers = append(containers, c)
		publishStreamed(t, d.rdb, protocol.HealthAlert{Container: c, Issues: []string{protocol.IssueExited(3)}})
	}
	// Read and under way, not acknowledged: the analyzer does not answer.
	waitPending(t, d.rdb, 4)
	d.StopGroup(syscall.SIGKILL)
	for i := range 3 {
		c := fmt.Sprintf("while-down-%d", i)
		containers = append(containers, c)
		publishStreamed(t, d.rdb, protocol.HealthAlert{Container: c, Issues: []string{protocol.IssueExited(3)}})
	}

	again := startDaemon(t, srv, streamsConfig)
	checkOnce(t, w, again.rdb, containers)
	if !strings.Contains(again.Logs(), "taking up entries this consumer left pending") {
		t.Errorf("the new hemostatd's log does not show the pending entries taken up")
	}
	again.Alive(t)
}

func waitPending(t *testing.T, rdb *redis.Client, n int64) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		p, err := rdb.XPending(context.Background(), bus.StreamKey(protocol.TypeHealthAlert), bus.StreamGroup).Result()
		if err == nil && p.Count >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pending = %+v (%v), want %d", p, err, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
