package role

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hemostat/hemostat/host/bus"
	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/sdk"
)

// Route is one alert plugin with the events routed to it.
type Route struct {
	Name     string
	Notifier sdk.Notifier
	// Events lists the event types routed to the plugin; empty means all.
	Events []string
	// MinSeverity drops notifications below it.
	MinSeverity string
}

func (r Route) wants(n sdk.Notification) bool {
	if len(r.Events) > 0 && !slices.Contains(r.Events, n.Type) {
		return false
	}
	return AtLeast(n.Severity, r.MinSeverity)
}

// Alert is the alert role: remediation_complete, false_alarm and escalation
// → dedupe → every routed alert plugin, plus the built-in log so something
// always reports.
type Alert struct {
	Bus          *bus.Bus
	Routes       []Route
	DedupeWindow time.Duration
	Logger       hclog.Logger
	// Retries is how many times a failed delivery is retried (default 3),
	// with backoff from RetryInitial (default 1s).
	Retries      int
	RetryInitial time.Duration
	// OnNotify is an optional observer, for metrics and tests.
	OnNotify func(route string, n sdk.Notification, err error)

	work *serializer
	mu   sync.Mutex
	seen map[string]time.Time
}

// Register subscribes the role to its channels; call before the bus runs.
// ctx bounds deliveries and should outlive the bus's run by a grace
// period (see Close).
func (a *Alert) Register(ctx context.Context) {
	a.work = newSerializer(4)
	a.seen = map[string]time.Time{}
	if a.Retries == 0 {
		a.Retries = 3
	}
	if a.RetryInitial == 0 {
		a.RetryInitial = time.Second
	}
	for _, t := range []string{protocol.TypeRemediationComplete, protocol.TypeFalseAlarm, protocol.TypeEscalation} {
		a.Bus.Subscribe(t, func(_ context.Context, env protocol.Envelope) { a.handle(ctx, env) })
	}
}

// Close refuses new notifications and waits until deliveries under way
// are done.
func (a *Alert) Close() {
	if a.work != nil {
		a.work.close()
	}
}

func (a *Alert) handle(ctx context.Context, env protocol.Envelope) {
	n, err := notificationFor(env)
	if err != nil {
		a.Bus.CountInvalid(env, err)
		return
	}
	key := dedupeKey(n, env)
	if a.duplicate(key, time.Now()) {
		a.Logger.Debug("duplicate notification suppressed", "type", n.Type, "container", n.Container, "title", n.Title)
		return
	}
	a.log(n)
	for _, route := range a.Routes {
		if !route.wants(n) {
			continue
		}
		a.work.do(ctx, route.Name, func() { a.deliver(ctx, route, n, key) })
	}
}

// log is the built-in alert: every notification reaches the daemon's log.
func (a *Alert) log(n sdk.Notification) {
	args := []any{"type", n.Type, "container", n.Container, "severity", n.Severity, "text", n.Text}
	switch n.Severity {
	case sdk.SeverityCritical:
		a.Logger.Error(n.Title, args...)
	case sdk.SeverityWarning:
		a.Logger.Warn(n.Title, args...)
	default:
		a.Logger.Info(n.Title, args...)
	}
}

func (a *Alert) duplicate(key string, now time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for k, t := range a.seen {
		if now.Sub(t) >= a.DedupeWindow {
			delete(a.seen, k)
		}
	}
	if _, ok := a.seen[key]; ok {
		return true
	}
	a.seen[key] = now
	return false
}

func (a *Alert) deliver(ctx context.Context, route Route, n sdk.Notification, key string) {
	delay := a.RetryInitial
	var err error
	for attempt := 0; attempt <= a.Retries; attempt++ {
		if err = route.Notifier.Notify(ctx, n); err == nil {
			break
		}
		if attempt == a.Retries {
			break
		}
		a.Logger.Warn("alert delivery failed; retrying", "plugin", route.Name, "in", delay, "error", err)
		select {
		case <-ctx.Done():
			err = ctx.Err()
			attempt = a.Retries
		case <-time.After(delay):
		}
		delay *= 2
	}
	if err != nil {
		a.Logger.Error("alert delivery gave up", "plugin", route.Name, "type", n.Type, "container", n.Container, "error", err)
		// Nobody was told: the same news within the window must not be
		// suppressed as a duplicate.
		a.mu.Lock()
		delete(a.seen, key)
		a.mu.Unlock()
	}
	if a.OnNotify != nil {
		a.OnNotify(route.Name, n, err)
	}
}

func envelopeJSON(env protocol.Envelope) ([]byte, error) { return json.Marshal(env) }
