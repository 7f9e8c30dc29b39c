package daemontest

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/testenv"
	"github.com/redis/go-redis/v9"
)

// publish sends an envelope of eventType about container with extra data
// fields (JSON members, comma-separated).
func publish(t *testing.T, rdb *redis.Client, eventType, container, extra string) {
	t.Helper()
	if extra != "" {
		extra = "," + extra
	}
	raw := fmt.Sprintf(`{"timestamp":"2025-11-03T10:30:45.123456","agent":"test","type":%q,"data":{"container":%q%s}}`, eventType, container, extra)
	if err := rdb.Publish(context.Background(), protocol.Channel(eventType), raw).Err(); err != nil {
		t.Fatal(err)
	}
}

func TestWatcherWaits(t *testing.T) {
	rdb := testenv.StartRedis(t).Client(t)
	w := Watch(t, rdb)

	// Published later, while the watcher waits.
	go func() {
		time.Sleep(100 * time.Millisecond)
		rdb.Publish(context.Background(), protocol.Channel(protocol.TypeHealthAlert),
			`{"data":{"container":"late","issues":["Exited with code 1"]}}`)
	}()
	late := w.WaitFor(t, protocol.TypeHealthAlert, "late", nil, 10*time.Second)
	if late.Issues()[0] != "Exited with code 1" || late.At.IsZero() {
		t.Errorf("waited for %+v", late)
	}

	publish(t, rdb, protocol.TypeRemediationComplete, "api", `"action":"restart","result":{"status":"deferred"}`)
	publish(t, rdb, protocol.TypeRemediationComplete, "other", `"action":"restart","result":{"status":"success"}`)
	publish(t, rdb, protocol.TypeRemediationComplete, "api", `"action":"restart","result":{"status":"success"}`)
	done := w.WaitFor(t, protocol.TypeRemediationComplete, "api", StatusIs("success"), 10*time.Second)
	if done.Str("result", "status") != "success" {
		t.Errorf("WaitFor(success) = %s", done.Raw)
	}
	both := w.WaitN(t, protocol.TypeRemediationComplete, "api", 2, nil, 10*time.Second)
	if both[0].Str("result", "status") != "deferred" || both[1].Str("result", "status") != "success" {
		t.Errorf("WaitN = %s, %s: not in order of receipt", both[0].Raw, both[1].Raw)
	}
	if n := w.Count(protocol.TypeRemediationComplete, "api"); n != 2 {
		t.Errorf("Count = %d, want 2", n)
	}
	w.ExpectTrace(t, "api", "remediation_complete restart deferred", "remediation_complete restart success")

	mark := w.Len()
	publish(t, rdb, protocol.TypeRemediationComplete, "api", `"action":"restart","result":{"status":"failed"}`)
	after := w.AwaitAfter(t, mark, protocol.TypeRemediationComplete, "api", nil, 10*time.Second)
	if after.Str("result", "status") != "failed" {
		t.Errorf("AwaitAfter = %s, want the message after the mark", after.Raw)
	}
	about := w.WaitAbout(t, "other", func(m Message) bool { return m.Type() != protocol.TypeHealthAlert }, 10*time.Second)
	if about.Type() != protocol.TypeRemediationComplete {
		t.Errorf("WaitAbout = %s", about.Raw)
	}
	w.Quiet(t, "api", 200*time.Millisecond, 10*time.Second)
}

// fatalRecorder is a testing.TB whose Fatalf records the message and ends
// the goroutine, as the real one does, so that a helper's failure can be
// checked.
type fatalRecorder struct {
	testing.TB
	msg chan string
}

func (r *fatalRecorder) Helper() {}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg <- fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// failure runs f with a fatalRecorder and returns its failure message, or
// "" if it returned without failing.
func failure(t *testing.T, f func(tb testing.TB)) string {
	t.Helper()
	r := &fatalRecorder{TB: t, msg: make(chan string, 1)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	select {
	case m := <-r.msg:
		return m
	default:
		return ""
	}
}

func TestWatcherFails(t *testing.T) {
	rdb := testenv.StartRedis(t).Client(t)
	w := Watch(t, rdb)
	publish(t, rdb, protocol.TypeHealthAlert, "api", `"issues":["Exited with code 1"]`)
	w.WaitFor(t, protocol.TypeHealthAlert, "api", nil, 10*time.Second)

	for _, tc := range []struct {
		name string
		f    func(tb testing.TB)
		want string
	}{
		{"wrong type", func(tb testing.TB) {
			w.WaitFor(tb, protocol.TypeRemediationComplete, "api", nil, 200*time.Millisecond)
		}, "0 of 1 remediation_complete for api within 200ms; envelopes about it:\n  "},
		{"no match", func(tb testing.TB) {
			w.WaitFor(tb, protocol.TypeHealthAlert, "api", func(Message) bool { return false }, 200*time.Millisecond)
		}, `"issues":["Exited with code 1"]`},
		{"too few", func(tb testing.TB) {
			w.WaitN(tb, protocol.TypeHealthAlert, "api", 2, nil, 200*time.Millisecond)
		}, "1 of 2 health_alert for api"},
		{"nothing before the mark", func(tb testing.TB) {
			w.AwaitAfter(tb, w.Len(), protocol.TypeHealthAlert, "api", nil, 200*time.Millisecond)
		}, "0 of 1 health_alert for api"},
		{"other container", func(tb testing.TB) {
			w.WaitAbout(tb, "web", nil, 200*time.Millisecond)
		}, "(none, of 1 envelopes)"},
		{"trace differs", func(tb testing.TB) {
			w.ExpectTrace(tb, "api", "health_alert Exited with code 2")
		}, "envelopes about api:\n  health_alert Exited with code 1\nwant:\n  health_alert Exited with code 2"},
		{"empty trace expected", func(tb testing.TB) {
			w.ExpectTrace(tb, "api")
		}, "health_alert Exited with code 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := failure(t, tc.f)
			if !strings.Contains(got, tc.want) {
				t.Errorf("failure %q does not contain %q", got, tc.want)
			}
		})
	}
	if got := failure(t, func(tb testing.TB) { w.ExpectTrace(tb, "web") }); got != "" {
		t.Errorf("an empty trace as expected failed: %s", got)
	}
}

func TestWatcherQuietFailsWhileMessagesArrive(t *testing.T) {
	rdb := testenv.StartRedis(t).Client(t)
	w := Watch(t, rdb)
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				rdb.Publish(ctx, protocol.Channel(protocol.TypeHealthAlert), `{"data":{"container":"busy"}}`)
			}
		}
	}()
	got := failure(t, func(tb testing.TB) { w.Quiet(tb, "busy", time.Second, 2*time.Second) })
	cancel()
	<-stopped
	if !strings.Contains(got, "envelopes about busy still arriving after 2s") {
		t.Errorf("Quiet under a stream of messages: %q", got)
	}
}
