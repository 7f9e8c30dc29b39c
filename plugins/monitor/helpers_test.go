package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/hashicorp/go-hclog"
	"github.com/hemostat/hemostat/internal/testenv"
	"github.com/hemostat/hemostat/sdk"
)

// recorder collects the samples a Watch emits.
type recorder struct {
	mu      sync.Mutex
	samples []sdk.Sample
	notify  chan struct{}
	// synced receives after every resync of the monitor.
	synced chan struct{}
}

func newRecorder() *recorder { return &recorder{notify: make(chan struct{}, 1)} }

func (r *recorder) emit(s sdk.Sample) error {
	r.mu.Lock()
	r.samples = append(r.samples, s)
	r.mu.Unlock()
	select {
	case r.notify <- struct{}{}:
	default:
	}
	return nil
}

// all returns the samples so far for one container.
func (r *recorder) all(name string) []sdk.Sample {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []sdk.Sample
	for _, s := range r.samples {
		if s.Container == name {
			out = append(out, s)
		}
	}
	return out
}

// waitFor returns the first sample of container name that matches, failing
// the test after timeout.
func (r *recorder) waitFor(t *testing.T, name string, timeout time.Duration, what string, match func(sdk.Sample) bool) sdk.Sample {
	t.Helper()
	s, ok := r.await(name, timeout, match)
	if !ok {
		t.Fatalf("no %s sample for %s within %s; got %s", what, name, timeout, describe(r.all(name)))
	}
	return s
}

// await is waitFor that reports the timeout instead of failing.
func (r *recorder) await(name string, timeout time.Duration, match func(sdk.Sample) bool) (sdk.Sample, bool) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		for _, s := range r.all(name) {
			if match(s) {
				return s, true
			}
		}
		select {
		case <-r.notify:
		case <-deadline.C:
			return sdk.Sample{}, false
		}
	}
}

// event matches a lifecycle sample of one kind.
func event(kind string) func(sdk.Sample) bool {
	return func(s sdk.Sample) bool { return s.Event == kind }
}

func describe(samples []sdk.Sample) string {
	if len(samples) == 0 {
		return "none"
	}
	var b strings.Builder
	for _, s := range samples {
		fmt.Fprintf(&b, "\n  event=%q status=%s exit=%d oom=%v health=%q stop=%v restarting=%v cpu=%.1f mem=%.1f",
			s.Event, s.Status, s.ExitCode, s.OOMKilled, s.Health, s.StopRequested, s.RestartingByDocker, s.CPUPct, s.MemoryPct)
	}
	return b.String()
}

// testLogger sends the plugin's warnings to the test log.
func testLogger(t *testing.T) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: "monitor", Level: hclog.Warn, Output: testWriter{t}})
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// startMonitor configures a monitor with settings and runs Watch until the
// test ends.
func startMonitor(t *testing.T, cfg map[string]any) *recorder {
	t.Helper()
	rec, _ := runMonitor(t, cfg, testLogger(t))
	return rec
}

// runMonitor configures a monitor with settings and runs Watch until stop
// is called or the test ends. It returns once the monitor has listed the
// engine's containers.
func runMonitor(tb testing.TB, cfg map[string]any, log hclog.Logger) (rec *recorder, stop func()) {
	tb.Helper()
	m := New()
	m.SetLogger(log)
	if err := m.Configure(context.Background(), []byte(mustJSON(tb, cfg)), sdk.NewMemoryHost()); err != nil {
		tb.Fatalf("Configure: %v", err)
	}
	rec = newRecorder()
	synced := make(chan struct{}, 16)
	m.onSynced = func() {
		select {
		case synced <- struct{}{}:
		default:
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Watch(ctx, rec.emit) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil && !errors.Is(err, context.Canceled) {
					tb.Errorf("Watch returned %v", err)
				}
			case <-time.After(10 * time.Second):
				tb.Error("Watch did not return within 10s of its context ending")
			}
			if err := m.Shutdown(context.Background()); err != nil {
				tb.Errorf("Shutdown: %v", err)
			}
		})
	}
	tb.Cleanup(stop)
	select {
	case <-synced:
	case <-time.After(60 * time.Second):
		tb.Fatal("the monitor did not list the engine's containers within 60s")
	}
	rec.synced = synced
	return rec, stop
}

// uniqueName returns a container name no other test or package uses.
func uniqueName(t *testing.T) string {
	name := strings.NewReplacer("/", "-", " ", "-", "_", "-").Replace(strings.ToLower(t.Name()))
	return fmt.Sprintf("hm-%s-%d", name, time.Now().UnixNano()%1e9)
}

// runSickapp runs the test image with args and returns its name and ID.
func runSickapp(t *testing.T, cli *client.Client, cfg container.Config, host *container.HostConfig, args ...string) (string, string) {
	t.Helper()
	cfg.Image = testenv.TestImage(t)
	cfg.Cmd = args
	name := uniqueName(t)
	return name, testenv.RunContainer(t, cli, name, &cfg, host)
}

func waitExited(t *testing.T, cli *client.Client, id string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	waitC, errC := cli.ContainerWait(ctx, id, container.WaitConditionNotRunning)
	select {
	case <-waitC:
	case err := <-errC:
		t.Fatalf("wait for %s: %v", id[:12], err)
	}
}

func hclogNull() hclog.Logger { return hclog.NewNullLogger() }

func mustJSON(t testing.TB, v any) string {
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}
