package role

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hemostat/hemostat/host/bus"
	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/host/silence"
	"github.com/hemostat/hemostat/internal/testenv"
	"github.com/hemostat/hemostat/sdk"
)

// scriptedNotifier answers each Notify with the next error of its script
// (nil once the script is used up) and records what it was given.
type scriptedNotifier struct {
	mu     sync.Mutex
	script []error
	calls  []time.Time
	got    []sdk.Notification
}

func (*scriptedNotifier) Configure(context.Context, json.RawMessage, sdk.Host) error { return nil }
func (s *scriptedNotifier) Notify(_ context.Context, n sdk.Notification) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, time.Now())
	if len(s.script) > 0 {
		err := s.script[0]
		s.script = s.script[1:]
		if err != nil {
			return err
		}
	}
	s.got = append(s.got, n)
	return nil
}

func (s *scriptedNotifier) delivered() []sdk.Notification {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sdk.Notification(nil), s.got...)
}

func (s *scriptedNotifier) callTimes() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.calls...)
}

// alertRig runs an alert role on a real redis-server, fed by Alert.Notify
// and by envelopes on the bus.
type alertRig struct {
	alert    *Alert
	bus      *bus.Bus
	silences *silence.Store
	ctx      context.Context
	outcomes chan error
}

func newAlertRig(t *testing.T, logger hclog.Logger, routes ...Route) *alertRig {
	t.Helper()
	srv := testenv.StartRedis(t)
	ctx, cancel := context.WithCancel(context.Background())
	r := &alertRig{ctx: ctx, outcomes: make(chan error, 100)}
	r.bus = bus.New(srv.Client(t), bus.Options{Logger: hclog.NewNullLogger()})
	r.silences = silence.NewStore(srv.Client(t), SilenceEvents())
	r.alert = &Alert{
		Bus: r.bus, Routes: routes, Silences: r.silences, DedupeWindow: time.Minute, Logger: logger,
		RetryInitial: 10 * time.Millisecond,
		OnNotify:     func(_ string, _ sdk.Notification, err error) { r.outcomes <- err },
	}
	r.alert.Register(ctx)
	t.Cleanup(func() {
		r.alert.Close()
		cancel()
		r.bus.Close(context.Background())
	})
	return r
}

func (r *alertRig) outcome(t *testing.T) error {
	t.Helper()
	select {
	case err := <-r.outcomes:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("no delivery outcome")
		return nil
	}
}

func completed(container, status string) sdk.Notification {
	env, _ := protocol.NewEnvelope(protocol.AgentResponder, protocol.TypeRemediationComplete, protocol.RemediationComplete{
		Container: container, Action: "restart", Result: protocol.Result{Status: status, Action: "restart", Container: container},
	}, time.Now())
	n, err := notificationFor(env)
	if err != nil {
		panic(err)
	}
	return n
}

func TestAlertSilencesAndContainerRoutes(t *testing.T) {
	all, db := &scriptedNotifier{}, &scriptedNotifier{}
	r := newAlertRig(t, hclog.NewNullLogger(),
		Route{Name: "all", Notifier: all},
		Route{Name: "db", Notifier: db, Containers: []string{"db-*"}},
	)
	var silenced []string
	var mu sync.Mutex
	r.alert.OnSilenced = func(n sdk.Notification, s silence.Silence) {
		mu.Lock()
		silenced = append(silenced, n.Container+"@"+s.Comment)
		mu.Unlock()
	}
	if _, err := r.silences.Add(r.ctx, silence.Silence{Container: "batch-*", Ends: time.Now().Add(time.Hour), Comment: "nightly"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.silences.Add(r.ctx, silence.Silence{Container: "web", Event: sdk.KindFalseAlarm, Ends: time.Now().Add(time.Hour), Comment: "noisy"}); err != nil {
		t.Fatal(err)
	}
	r.alert.Notify(r.ctx, completed("batch-1", sdk.StatusSuccess)) // silenced
	r.alert.Notify(r.ctx, completed("web", sdk.StatusSuccess))     // not this kind
	r.alert.Notify(r.ctx, completed("db-main", sdk.StatusFailed))
	for range 3 { // all → web, db-main; db → db-main
		if err := r.outcome(t); err != nil {
			t.Fatal(err)
		}
	}
	// Deliveries for different containers run at once: in any order.
	if got := containers(all.delivered()); got != "web db-main" && got != "db-main web" {
		t.Errorf("route all got %q, want web and db-main", got)
	}
	if got := containers(db.delivered()); got != "db-main" {
		t.Errorf("route db got %q, want db-main only", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(silenced, " ") != "batch-1@nightly" {
		t.Errorf("silenced %q, want batch-1 by the nightly silence", silenced)
	}
	list, _ := r.silences.List(r.ctx)
	for _, s := range list {
		if s.Comment == "nightly" && s.Silenced != 1 {
			t.Errorf("the nightly silence counted %d, want 1", s.Silenced)
		}
	}
}

func containers(ns []sdk.Notification) string {
	var out []string
	for _, n := range ns {
		out = append(out, n.Container)
	}
	return strings.Join(out, " ")
}

// A revoked token: not retried, and one log line however many
// notifications fail; a success afterwards is logged once more.
func TestAlertPermanentFailureIsLoggedOnce(t *testing.T) {
	var logs bytes.Buffer
	var logMu sync.Mutex
	logger := hclog.New(&hclog.LoggerOptions{Output: &lockedWriter{w: &logs, mu: &logMu}, Level: hclog.Info})
	denied := sdk.Permanent(errors.New("slack: invalid_auth"))
	slack := &scriptedNotifier{script: []error{denied, denied, denied}}
	r := newAlertRig(t, logger, Route{Name: "slack", Notifier: slack})
	// Three containers' deliveries run at once and all fail; the fourth
	// is sent once they are done, so that its success cannot land between
	// two of the failures (which would rightly log the failure again).
	for _, c := range []string{"a", "b", "c"} {
		r.alert.Notify(r.ctx, completed(c, sdk.StatusFailed))
	}
	for i := range 3 {
		if err := r.outcome(t); err == nil {
			t.Errorf("delivery %d succeeded, want invalid_auth", i)
		}
	}
	r.alert.Notify(r.ctx, completed("d", sdk.StatusFailed))
	if err := r.outcome(t); err != nil {
		t.Errorf("delivery 4: %v", err)
	}
	if n := len(slack.callTimes()); n != 4 {
		t.Errorf("%d calls, want 4: a permanent failure is not retried", n)
	}
	logMu.Lock()
	defer logMu.Unlock()
	if n := strings.Count(logs.String(), "cannot deliver"); n != 1 {
		t.Errorf("the failure was logged %d times, want once:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "delivers again") {
		t.Errorf("the recovery was not logged:\n%s", logs.String())
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// A 429's Retry-After is waited out before the next try, not the backoff.
func TestAlertHonoursRetryAfter(t *testing.T) {
	wait := 300 * time.Millisecond
	slack := &scriptedNotifier{script: []error{sdk.RetryAfter(errors.New("slack: rate limited"), wait)}}
	r := newAlertRig(t, hclog.NewNullLogger(), Route{Name: "slack", Notifier: slack})
	r.alert.Notify(r.ctx, completed("api", sdk.StatusSuccess))
	if err := r.outcome(t); err != nil {
		t.Fatal(err)
	}
	calls := slack.callTimes()
	if len(calls) != 2 {
		t.Fatalf("%d calls, want 2", len(calls))
	}
	if gap := calls[1].Sub(calls[0]); gap < wait {
		t.Errorf("retried after %s, before the %s the service asked for", gap, wait)
	}
}
