package role

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hemostat/hemostat/host/bus"
	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/host/silence"
	"github.com/hemostat/hemostat/sdk"
)

// alertWorkers is how many notifications are delivered at once.
const alertWorkers = 16

// Route is one alert plugin with what is routed to it.
type Route struct {
	Name     string
	Notifier sdk.Notifier
	// Events lists the event types routed to the plugin; empty means all.
	// A storm summary reaches every route that wanted one of its parts.
	Events []string
	// MinSeverity drops notifications below it.
	MinSeverity string
	// Containers are name globs (path.Match); empty means every container.
	// Notifications about hemostatd itself (no container) always pass.
	Containers []string
}

func (r Route) wants(n sdk.Notification) bool {
	if len(r.Events) > 0 && !slices.Contains(r.Events, n.Type) {
		return false
	}
	if len(r.Containers) > 0 && n.Container != "" && !slices.ContainsFunc(r.Containers, func(p string) bool {
		return protocol.MatchContainer(p, n.Container)
	}) {
		return false
	}
	return AtLeast(n.Severity, r.MinSeverity)
}

// NotifiedTypes are the envelope types the alert role tells people about.
// foreign_action is among them: another healer on the engine doubles every
// action, and only a person can remove one of the two.
var NotifiedTypes = []string{protocol.TypeRemediationComplete, protocol.TypeFalseAlarm, protocol.TypeEscalation, protocol.TypeForeignAction}

// Alert is the alert role: remediation_complete, false_alarm, escalation
// and foreign_action → silences → the built-in log, so something always reports → per route:
// routing, grouping and storm summaries → the alert plugin.
type Alert struct {
	Bus    *bus.Bus
	Routes []Route
	// Silences, when set, mutes what matches an active silence.
	Silences *silence.Store
	// DedupeWindow groups notifications of one incident (container, kind,
	// host): the first goes out at once, the rest of the window as one
	// message with their count. 0 sends every one.
	DedupeWindow time.Duration
	Storm        Storm
	Logger       hclog.Logger
	// Fleet limits the role to its own host's news, and those of no host
	// it claims first, so that each incident is told once fleet-wide.
	Fleet Fleet
	// Active, when set, makes a standby daemon leave the news of its
	// engine to the active one; its own trouble it still tells.
	Active Active
	// Retries is how many times a failed delivery is retried (default 3),
	// with backoff from RetryInitial (default 1s), or after the wait a
	// plugin asked for (sdk.RetryAfter, at most MaxRetryAfter, default
	// 5m). A permanent failure (sdk.Permanent) is not retried.
	Retries       int
	RetryInitial  time.Duration
	MaxRetryAfter time.Duration
	// OnNotify is an optional observer of every delivery, for metrics and
	// tests.
	OnNotify func(route string, n sdk.Notification, err error)
	// OnHeld observes a notification kept back on a route: "grouped"
	// (counted into a later message) or "summarized" (into a storm
	// summary).
	OnHeld func(route, how string)
	// OnSilenced observes a notification a silence muted.
	OnSilenced func(n sdk.Notification, s silence.Silence)

	work     *pool
	routes   []*activeRoute
	silenceW logLimiter
}

// activeRoute is a route with its grouping and its delivery health.
type activeRoute struct {
	Route
	group *grouper

	mu sync.Mutex
	// broken is the permanent failure last logged, so that a revoked
	// token is one log line, not one per notification.
	broken string
}

// Register subscribes the role to its channels; call before the bus runs.
// ctx bounds deliveries and should outlive the bus's run by a grace
// period (see Close).
func (a *Alert) Register(ctx context.Context) {
	a.work = newPool(alertWorkers, queuePerWorker*alertWorkers, a.Logger)
	if a.Retries == 0 {
		a.Retries = 3
	}
	if a.RetryInitial == 0 {
		a.RetryInitial = time.Second
	}
	if a.MaxRetryAfter == 0 {
		a.MaxRetryAfter = 5 * time.Minute
	}
	a.silenceW = logLimiter{every: time.Minute}
	for _, r := range a.Routes {
		ar := &activeRoute{Route: r}
		held := func(how string) {
			if a.OnHeld != nil {
				a.OnHeld(r.Name, how)
			}
		}
		ar.group = newGrouper(a.DedupeWindow, a.Storm, func(n sdk.Notification, key string, done func()) {
			// Per plugin and container: one container's news stays in
			// order, and a slow channel holds up only its own deliveries.
			// The grouper calls this under its lock, which a delivery
			// takes too, so it must not wait for room in the pool.
			a.work.enqueue(r.Name+"\x00"+n.Container, func() { a.deliver(ctx, ar, n, key); done() })
		}, held)
		a.routes = append(a.routes, ar)
	}
	for _, t := range NotifiedTypes {
		a.Bus.Subscribe(t, func(busCtx context.Context, env protocol.Envelope) {
			if !a.Active.now() {
				return
			}
			// Deliveries are enqueued from under the grouper's lock,
			// which cannot wait; waiting for room here instead keeps the
			// queue bounded and holds the bus back in a flood.
			if a.work.waitRoom(busCtx) {
				a.handle(ctx, busCtx, env)
			}
		})
	}
}

// Close sends what grouping still holds, refuses new notifications and
// waits until deliveries under way are done.
func (a *Alert) Close() {
	for _, r := range a.routes {
		r.group.close()
	}
	if a.work != nil {
		a.work.close()
	}
}

// handle turns an envelope into a notification. With durable delivery
// the envelope stays unacknowledged until every route it goes to has
// delivered it (or given up), so a crash before then tells again rather
// than never.
func (a *Alert) handle(ctx, busCtx context.Context, env protocol.Envelope) {
	n, err := notificationFor(env)
	if err != nil {
		a.Bus.CountInvalid(env, err)
		return
	}
	if !a.Fleet.mine(busCtx, a.Bus, a.Logger, "alert", env, n.Container) {
		return
	}
	a.notify(ctx, n, func() func() { return bus.Hold(busCtx) })
}

// Notify reports one notification: hemostatd's own trouble (a plugin, Redis)
// enters here, envelopes from the bus too. It does not block.
func (a *Alert) Notify(ctx context.Context, n sdk.Notification) {
	a.notify(ctx, n, func() func() { return noop })
}

// notify offers n to every route that wants it; hold gives each route's
// offer the function it calls once n is accounted for.
func (a *Alert) notify(ctx context.Context, n sdk.Notification, hold func() func()) {
	if n.Type == sdk.TypeHemostatd {
		a.notifyOwn(ctx, n)
		return
	}
	if a.silenced(ctx, n) {
		return
	}
	a.log(n)
	for _, r := range a.routes {
		if r.wants(n) {
			r.group.offer(n, hold())
		}
	}
}

// notifyOwn delivers news of hemostatd's own trouble to every alert
// plugin at once: past routing, silences (which cannot be read while Redis
// is down) and grouping (Trouble already says it once, and its recovery
// must not wait for a window's end).
func (a *Alert) notifyOwn(ctx context.Context, n sdk.Notification) {
	a.log(n)
	for _, r := range a.routes {
		a.work.enqueue(r.Name+"\x00"+sdk.TypeHemostatd, func() { a.deliver(ctx, r, n, "") })
	}
}

// silenced reports whether an active silence mutes n, counting it. When
// the silences cannot be read the notification goes out: better told
// twice than not at all.
func (a *Alert) silenced(ctx context.Context, n sdk.Notification) bool {
	if a.Silences == nil || n.Container == "" {
		return false
	}
	s, ok, err := a.Silences.Match(ctx, n.Container, n.Type, n.Kind)
	if err != nil && a.silenceW.allow(time.Now()) {
		a.Logger.Warn("cannot read silences; notifying anyway", "error", err)
	}
	if !ok {
		return false
	}
	a.Logger.Debug("notification silenced", "silence", s.ID, "type", n.Type, "kind", n.Kind, "container", n.Container, "title", n.Title)
	if a.OnSilenced != nil {
		a.OnSilenced(n, s)
	}
	return true
}

// log is the built-in alert: every notification reaches the daemon's log.
func (a *Alert) log(n sdk.Notification) {
	args := []any{"type", n.Type, "kind", n.Kind, "container", n.Container, "severity", n.Severity, "text", n.Text}
	if n.Host != "" {
		args = append(args, "host", n.Host)
	}
	switch n.Severity {
	case sdk.SeverityCritical:
		a.Logger.Error(n.Title, args...)
	case sdk.SeverityWarning:
		a.Logger.Warn(n.Title, args...)
	default:
		a.Logger.Info(n.Title, args...)
	}
}

// deliver hands n to the route's plugin, retrying as the failure asks.
func (a *Alert) deliver(ctx context.Context, r *activeRoute, n sdk.Notification, key string) {
	delay := a.RetryInitial
	var err error
	for attempt := 0; ; attempt++ {
		if err = r.Notifier.Notify(ctx, n); err == nil || sdk.IsPermanent(err) || attempt == a.Retries {
			break
		}
		wait := delay
		if ra, ok := sdk.RetryAfterOf(err); ok {
			wait = min(ra, a.MaxRetryAfter)
		} else {
			delay *= 2
		}
		a.Logger.Warn("alert delivery failed; retrying", "plugin", r.Name, "in", wait, "error", err)
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			err = ctx.Err()
		case <-timer.C:
		}
		if ctx.Err() != nil {
			break
		}
	}
	a.noteOutcome(r, n, err)
	if err != nil && key != "" {
		// Nobody was told: the next notification of this incident must go
		// out at once, not be counted into a message that never comes.
		r.group.forget(key)
	}
	if a.OnNotify != nil {
		a.OnNotify(r.Name, n, err)
	}
}

// noteOutcome logs a delivery's outcome. A permanent failure (a revoked
// token, a deleted channel) is logged once until deliveries work again.
func (a *Alert) noteOutcome(r *activeRoute, n sdk.Notification, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case err == nil:
		if r.broken != "" {
			a.Logger.Info("alert plugin delivers again", "plugin", r.Name)
			r.broken = ""
		}
	case sdk.IsPermanent(err):
		if msg := err.Error(); msg != r.broken {
			r.broken = msg
			a.Logger.Error("alert plugin cannot deliver; not retrying, and not logging this again until it delivers",
				"plugin", r.Name, "type", n.Type, "container", n.Container, "error", err)
		}
	default:
		a.Logger.Error("alert delivery gave up", "plugin", r.Name, "type", n.Type, "container", n.Container, "error", err)
	}
}

// logLimiter lets one log line through per interval.
type logLimiter struct {
	every time.Duration
	mu    sync.Mutex
	last  time.Time
}

func (l *logLimiter) allow(now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.last) < l.every {
		return false
	}
	l.last = now
	return true
}
