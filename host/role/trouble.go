package role

import (
	"fmt"
	"sync"
	"time"

	"github.com/hemostat/hemostat/sdk"
)

// TroubleSettings say when hemostatd's own trouble is worth telling people.
type TroubleSettings struct {
	// RedisGrace is how long Redis may be unreachable before it is told:
	// a restart of Redis or a failover is over within it.
	RedisGrace time.Duration
	// PluginStable is how long a restarted plugin must run to be well
	// again. A plugin that fails again sooner is in trouble; one that
	// then runs this long is told recovered.
	PluginStable time.Duration
	// Repeat is the least time between two messages about one trouble
	// still going on.
	Repeat time.Duration
}

// Trouble watches hemostatd's own health — its Redis connection and its
// plugins — and tells the alert plugins when it is in trouble and when it
// recovered, once each, reminding at most every Repeat. Its messages go
// straight to the alert plugins: when Redis is down, the bus cannot carry
// them.
type Trouble struct {
	Settings TroubleSettings
	// Host names this hemostatd in a fleet.
	Host string
	// Notify delivers a notification; it must not block.
	Notify func(sdk.Notification)
	now    func() time.Time

	mu      sync.Mutex
	redis   redisHealth
	plugins map[string]*pluginHealth
}

type redisHealth struct {
	down    bool
	since   time.Time
	lastErr error
	told    time.Time // zero until the outage was told
	timer   *time.Timer
	// outage counts outages, so that a timer of one that ended does
	// nothing.
	outage int
}

type pluginHealth struct {
	role, name string
	// runningSince is when the plugin last came back; zero for one that
	// has run since hemostatd started.
	runningSince time.Time
	// failures counts failures since the plugin last ran PluginStable.
	failures int
	lastErr  error
	restarts int
	told     time.Time // zero unless in trouble and told
	// down: the plugin failed and has not run since.
	down   bool
	gaveUp bool
	timer  *time.Timer
}

func (t *Trouble) clock() time.Time {
	if t.now != nil {
		return t.now()
	}
	return time.Now()
}

// RedisDown notes that the connection to Redis failed with err.
func (t *Trouble) RedisDown(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := &t.redis
	r.lastErr = err
	if r.down {
		return
	}
	r.down, r.since, r.told = true, t.clock(), time.Time{}
	r.outage++
	outage := r.outage
	r.timer = time.AfterFunc(t.Settings.RedisGrace, func() { t.redisStillDown(outage) })
}

// redisStillDown tells an outage that outlasted the grace, and again every
// Repeat while it lasts.
func (t *Trouble) redisStillDown(outage int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := &t.redis
	if !r.down || r.outage != outage {
		return
	}
	now := t.clock()
	title := "Redis unreachable"
	if !r.told.IsZero() {
		title = "Redis still unreachable"
	}
	r.told = now
	down := now.Sub(r.since).Round(time.Second)
	t.send(sdk.Notification{
		Kind: sdk.KindRedisTrouble, Severity: sdk.SeverityCritical, Title: title,
		Text:  fmt.Sprintf("hemostatd has not reached Redis for %s. It keeps trying; meanwhile the roles cannot pass alerts to one another.", down),
		Error: errText(r.lastErr), Time: now, FirstTime: r.since,
		Figures: []sdk.Figure{{Name: "Unreachable for", Value: down.String()}},
	})
	r.timer = time.AfterFunc(t.Settings.Repeat, func() { t.redisStillDown(outage) })
}

// RedisUp notes that the connection to Redis works again.
func (t *Trouble) RedisUp() {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := &t.redis
	if !r.down {
		return
	}
	r.timer.Stop()
	r.down = false
	if r.told.IsZero() {
		return // within the grace: nobody was told, nobody needs the news
	}
	now := t.clock()
	down := now.Sub(r.since).Round(time.Second)
	t.send(sdk.Notification{
		Kind: sdk.KindRedisTrouble, Severity: sdk.SeverityInfo, Status: sdk.StatusRecovered,
		Title: "Redis reachable again", Text: fmt.Sprintf("hemostatd reached Redis again after %s", down),
		Time: now, FirstTime: r.since,
		Figures: []sdk.Figure{{Name: "Unreachable for", Value: down.String()}},
	})
}

// RedisGone tells that hemostatd gives up on Redis and exits.
func (t *Trouble) RedisGone(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.redis.timer != nil {
		t.redis.timer.Stop()
	}
	t.redis.outage++
	t.send(sdk.Notification{
		Kind: sdk.KindRedisTrouble, Severity: sdk.SeverityCritical, Title: "hemostatd gave up on Redis and exits",
		Text:  "Redis stayed unreachable through every reconnect try; a service manager may start hemostatd again.",
		Error: err.Error(), Time: t.clock(),
	})
}

func (t *Trouble) plugin(role, name string) *pluginHealth {
	if t.plugins == nil {
		t.plugins = map[string]*pluginHealth{}
	}
	key := role + "/" + name
	p := t.plugins[key]
	if p == nil {
		p = &pluginHealth{role: role, name: name}
		t.plugins[key] = p
	}
	return p
}

// PluginFailed notes that a plugin's process died or hung, or that
// restarting it failed. A failure before the plugin ran PluginStable since
// its last restart is trouble.
func (t *Trouble) PluginFailed(role, name string, err error, restarts int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.plugin(role, name)
	now := t.clock()
	if p.timer != nil {
		p.timer.Stop()
	}
	if p.told.IsZero() && !p.down && (p.runningSince.IsZero() || now.Sub(p.runningSince) >= t.Settings.PluginStable) {
		p.failures = 0 // well for long enough: this is a first failure again
	}
	p.down = true
	p.failures++
	p.lastErr, p.restarts = err, restarts
	if p.failures < 2 || (!p.told.IsZero() && now.Sub(p.told) < t.Settings.Repeat) {
		return
	}
	title := fmt.Sprintf("%s plugin %s keeps failing", role, name)
	if !p.told.IsZero() {
		title = fmt.Sprintf("%s plugin %s still keeps failing", role, name)
	}
	p.told = now
	t.send(sdk.Notification{
		Kind: sdk.KindPluginTrouble, Severity: sdk.SeverityCritical, Title: title,
		Text: fmt.Sprintf("%d failures in a row, none after it ran %s; hemostatd keeps restarting it.",
			p.failures, t.Settings.PluginStable),
		Error: errText(err), Time: now,
		Figures: []sdk.Figure{{Name: "Plugin", Value: role + "/" + name}, {Name: "Failures in a row", Value: fmt.Sprint(p.failures)},
			{Name: "Restarts", Value: fmt.Sprint(restarts)}},
	})
}

// PluginRestarted notes that a plugin runs again. If it was told in
// trouble, running PluginStable now tells it recovered.
func (t *Trouble) PluginRestarted(role, name string, restarts int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.plugin(role, name)
	now := t.clock()
	p.runningSince, p.restarts, p.gaveUp, p.down = now, restarts, false, false
	if p.told.IsZero() {
		return
	}
	if p.timer != nil {
		p.timer.Stop()
	}
	p.timer = time.AfterFunc(t.Settings.PluginStable, func() { t.pluginStable(p, now) })
}

// pluginStable tells a plugin in trouble recovered, unless it failed
// again since it came back at since.
func (t *Trouble) pluginStable(p *pluginHealth, since time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p.told.IsZero() || !p.runningSince.Equal(since) || p.failures == 0 {
		return
	}
	now := t.clock()
	if now.Sub(since) < t.Settings.PluginStable {
		return
	}
	failures := p.failures
	p.told, p.failures = time.Time{}, 0
	t.send(sdk.Notification{
		Kind: sdk.KindPluginTrouble, Severity: sdk.SeverityInfo, Status: sdk.StatusRecovered,
		Title: fmt.Sprintf("%s plugin %s works again", p.role, p.name),
		Text:  fmt.Sprintf("it has run %s without failing, after %d failures in a row", t.Settings.PluginStable, failures),
		Time:  now,
		Figures: []sdk.Figure{{Name: "Plugin", Value: p.role + "/" + p.name}, {Name: "Failures in a row", Value: fmt.Sprint(failures)},
			{Name: "Restarts", Value: fmt.Sprint(p.restarts)}},
	})
}

// PluginGaveUp notes that a plugin cannot be restarted without an
// operator: always told, at once.
func (t *Trouble) PluginGaveUp(role, name string, err error, restarts int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.plugin(role, name)
	if p.timer != nil {
		p.timer.Stop()
	}
	now := t.clock()
	p.gaveUp, p.told, p.restarts = true, now, restarts
	t.send(sdk.Notification{
		Kind: sdk.KindPluginTrouble, Severity: sdk.SeverityCritical,
		Title: fmt.Sprintf("%s plugin %s cannot be restarted", role, name),
		Text:  "hemostatd gave up on it until an operator fixes it and reloads the config.",
		Error: errText(err), Time: now,
		Figures: []sdk.Figure{{Name: "Plugin", Value: role + "/" + name}, {Name: "Restarts", Value: fmt.Sprint(restarts)}},
	})
}

// send fills in what every trouble message has; t.mu is held.
func (t *Trouble) send(n sdk.Notification) {
	n.Type, n.Host = sdk.TypeHemostatd, t.Host
	t.Notify(n)
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
