package role

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hemostat/hemostat/sdk"
)

// troubleRig is a Trouble whose messages arrive on a channel.
func troubleRig(s TroubleSettings) (*Trouble, chan sdk.Notification) {
	ch := make(chan sdk.Notification, 100)
	return &Trouble{Settings: s, Host: "node-1", Notify: func(n sdk.Notification) { ch <- n }}, ch
}

func next(t *testing.T, ch chan sdk.Notification) sdk.Notification {
	t.Helper()
	select {
	case n := <-ch:
		return n
	case <-time.After(10 * time.Second):
		t.Fatal("no trouble message")
		return sdk.Notification{}
	}
}

func none(t *testing.T, ch chan sdk.Notification, wait time.Duration) {
	t.Helper()
	select {
	case n := <-ch:
		t.Fatalf("unexpected message %q: %s", n.Title, n.Text)
	case <-time.After(wait):
	}
}

func TestTroubleRedis(t *testing.T) {
	tr, ch := troubleRig(TroubleSettings{RedisGrace: 200 * time.Millisecond, Repeat: 500 * time.Millisecond})
	refused := errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")

	// A blip within the grace is nobody's business.
	tr.RedisDown(refused)
	tr.RedisUp()
	none(t, ch, 400*time.Millisecond)

	tr.RedisDown(refused)
	tr.RedisDown(refused) // a failed reconnect try is the same outage
	first := next(t, ch)
	if first.Type != sdk.TypeHemostatd || first.Kind != sdk.KindRedisTrouble || first.Severity != sdk.SeverityCritical ||
		first.Title != "Redis unreachable" || first.Host != "node-1" || !strings.Contains(first.Error, "connection refused") {
		t.Errorf("first message: %+v", first)
	}
	second := next(t, ch)
	if second.Title != "Redis still unreachable" {
		t.Errorf("reminder: %+v", second)
	}
	if gap := second.Time.Sub(first.Time); gap < 500*time.Millisecond {
		t.Errorf("reminded after %s, sooner than repeat", gap)
	}
	tr.RedisUp()
	var rec sdk.Notification
	for rec = next(t, ch); rec.Status != sdk.StatusRecovered; rec = next(t, ch) {
		if rec.Title != "Redis still unreachable" {
			t.Fatalf("before the recovery: %+v", rec)
		}
	}
	if rec.Kind != sdk.KindRedisTrouble || rec.Severity != sdk.SeverityInfo || rec.Title != "Redis reachable again" {
		t.Errorf("recovery: %+v", rec)
	}
	// No reminder of an outage that is over.
	none(t, ch, time.Second)
}

func TestTroublePlugin(t *testing.T) {
	tr, ch := troubleRig(TroubleSettings{PluginStable: 300 * time.Millisecond, Repeat: time.Hour})
	exited := errors.New("plugin exited")

	// One crash, restarted, and well for longer than PluginStable: no news.
	tr.PluginFailed("analyzer", "llm", exited, 0)
	tr.PluginRestarted("analyzer", "llm", 1)
	time.Sleep(400 * time.Millisecond)
	tr.PluginFailed("analyzer", "llm", exited, 1)
	tr.PluginRestarted("analyzer", "llm", 2)
	none(t, ch, 100*time.Millisecond)

	// Failing again before PluginStable: trouble, told once.
	tr.PluginFailed("analyzer", "llm", exited, 2)
	n := next(t, ch)
	if n.Type != sdk.TypeHemostatd || n.Kind != sdk.KindPluginTrouble || n.Severity != sdk.SeverityCritical ||
		n.Title != "analyzer plugin llm keeps failing" || n.Error != "plugin exited" {
		t.Errorf("trouble: %+v", n)
	}
	for i := 3; i < 6; i++ {
		tr.PluginRestarted("analyzer", "llm", i)
		tr.PluginFailed("analyzer", "llm", exited, i)
	}
	none(t, ch, 100*time.Millisecond)

	// A restart that keeps failing is trouble of another plugin too.
	tr.PluginFailed("monitor", "docker", exited, 0)
	tr.PluginFailed("monitor", "docker", errors.New("launch: fork failed"), 1)
	if n := next(t, ch); n.Title != "monitor plugin docker keeps failing" {
		t.Errorf("launch failures: %+v", n)
	}

	// Back, and well for PluginStable: recovered, once.
	tr.PluginRestarted("analyzer", "llm", 6)
	rec := next(t, ch)
	if rec.Status != sdk.StatusRecovered || rec.Severity != sdk.SeverityInfo || rec.Title != "analyzer plugin llm works again" {
		t.Errorf("recovery: %+v", rec)
	}
	none(t, ch, 500*time.Millisecond)
}

func TestTroubleRepeat(t *testing.T) {
	tr, ch := troubleRig(TroubleSettings{PluginStable: time.Hour, Repeat: 300 * time.Millisecond})
	exited := errors.New("plugin exited")
	tr.PluginFailed("alert", "slack", exited, 0)
	tr.PluginFailed("alert", "slack", exited, 1)
	first := next(t, ch)
	tr.PluginFailed("alert", "slack", exited, 2)
	none(t, ch, 100*time.Millisecond)
	time.Sleep(300 * time.Millisecond)
	tr.PluginFailed("alert", "slack", exited, 3)
	if n := next(t, ch); n.Title != "alert plugin slack still keeps failing" || n.Time.Sub(first.Time) < 300*time.Millisecond {
		t.Errorf("reminder: %+v after %+v", n, first)
	}
}

func TestTroubleGaveUp(t *testing.T) {
	tr, ch := troubleRig(TroubleSettings{PluginStable: time.Hour, Repeat: time.Hour})
	tr.PluginGaveUp("responder", "docker", errors.New("checksum mismatch"), 3)
	if n := next(t, ch); n.Title != "responder plugin docker cannot be restarted" || n.Error != "checksum mismatch" {
		t.Errorf("gave up: %+v", n)
	}
}

// TestAlertDeliversOwnTroublePastRouting: news about hemostatd itself
// reaches a plugin whose routing would drop it (events, severity,
// containers), and its recovery is not held back by grouping.
func TestAlertDeliversOwnTroublePastRouting(t *testing.T) {
	narrow := &scriptedNotifier{}
	r := newAlertRig(t, hclog.NewNullLogger(), Route{
		Name: "narrow", Notifier: narrow, Events: []string{"escalation"}, MinSeverity: sdk.SeverityCritical, Containers: []string{"web"},
	})
	tr, _ := troubleRig(TroubleSettings{})
	tr.Notify = func(n sdk.Notification) { r.alert.Notify(r.ctx, n) }
	tr.PluginGaveUp("analyzer", "llm", errors.New("bad settings"), 0)
	tr.redis = redisHealth{down: true, since: time.Now(), told: time.Now(), timer: time.NewTimer(time.Hour)}
	tr.RedisUp()
	for range 2 {
		if err := r.outcome(t); err != nil {
			t.Fatal(err)
		}
	}
	got := narrow.delivered()
	if len(got) != 2 || got[0].Kind != sdk.KindPluginTrouble || got[1].Status != sdk.StatusRecovered {
		t.Fatalf("delivered: %+v", got)
	}
}
