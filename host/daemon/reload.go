package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hemostat/hemostat/host/config"
	"github.com/hemostat/hemostat/host/supervisor"
	"github.com/hemostat/hemostat/sdk"
	"github.com/prometheus/client_golang/prometheus"
)

// A config reload, as Prometheus and Alertmanager do one: SIGHUP re-reads
// the config file; a valid file is applied without stopping work under way
// and without restarting plugins whose block did not change; anything
// wrong with it refuses the whole reload, and the running config goes on.
//
// What a reload applies: the responder's policy (the safety gate), the
// monitor's thresholds, the log level, and any plugin block's settings,
// path, pin or timeout (that plugin alone is replaced by a new process,
// see supervisor.Replacement). What needs a restart — and so refuses the
// reload, naming it — is what the daemon is wired from: Redis, the HTTP
// listener, the log format, a role switched on or off, a plugin added,
// removed or moved in its chain, an alert plugin's routing, the dedupe
// window, the storm and trouble settings and the silences of the file
// (those set at run time are untouched by either).

// reloadMetrics are the reload gauges, named as Prometheus names its own.
type reloadMetrics struct {
	successful prometheus.Gauge
	lastOK     prometheus.Gauge
	duration   prometheus.Gauge
}

func newReloadMetrics(reg prometheus.Registerer) *reloadMetrics {
	m := &reloadMetrics{
		successful: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hemostat_config_last_reload_successful", Help: "Whether the last config reload succeeded (1) or was refused (0).",
		}),
		lastOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hemostat_config_last_reload_success_timestamp_seconds", Help: "When the config was last loaded successfully, at start or by a reload.",
		}),
		duration: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hemostat_config_last_reload_seconds", Help: "How long the last config reload took, applied or refused.",
		}),
	}
	reg.MustRegister(m.successful, m.lastOK, m.duration)
	m.successful.Set(1)
	m.lastOK.SetToCurrentTime()
	return m
}

// runReloads applies a reload for every signal until ctx ends.
func (d *Daemon) runReloads(signals <-chan os.Signal) func(context.Context) error {
	return func(ctx context.Context) error {
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-signals:
				_ = d.Reload(ctx)
			}
		}
	}
}

// Reload re-reads the config file and applies it, or refuses it with the
// reasons and keeps the running config. Reloads are serialized.
func (d *Daemon) Reload(ctx context.Context) error {
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	start := time.Now()
	err := d.reload(ctx)
	d.reloads.duration.Set(time.Since(start).Seconds())
	if err != nil {
		d.reloads.successful.Set(0)
		d.log.Error("config reload refused; the running config is unchanged", "file", d.cfg.File, "error", err.Error())
		return err
	}
	d.reloads.successful.Set(1)
	d.reloads.lastOK.SetToCurrentTime()
	return nil
}

func (d *Daemon) reload(ctx context.Context) error {
	if d.cfg.File == "" {
		return errors.New("hemostatd runs on its built-in defaults, not a config file: there is nothing to re-read")
	}
	next, err := config.Load(d.cfg.File)
	if err != nil {
		return err
	}
	if needs := needsRestart(d.cfg, next); len(needs) > 0 {
		return fmt.Errorf("these changes take effect only when hemostatd restarts: %s", strings.Join(needs, "; "))
	}
	replacements, err := d.prepareReplacements(ctx, next)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	for _, r := range replacements {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.Commit(ctx)
		}()
	}
	wg.Wait()
	if d.gate != nil {
		d.gate.SetPolicy(Policy(next.Responder))
	}
	if d.overview != nil {
		d.overview.SetRelapse(next.Responder.Backoff.ResetAfter)
	}
	th := Thresholds(next.Monitor, next.Responder.Breaker)
	if d.monitor != nil {
		d.monitor.SetThresholds(th)
	}
	if d.responder != nil {
		d.responder.SetThresholds(th)
	}
	d.log.SetLevel(hclog.LevelFromString(next.LogLevel))
	changed := settingsChanged(d.cfg, next)
	d.cfg = next
	d.log.Info("config reloaded", "file", next.File, "plugins_replaced", len(replacements), "changed", changed)
	return nil
}

// prepareReplacements starts a new process for every running plugin whose
// block changed, and configures it. If any refuses its settings, every
// replacement is ended and the errors come back at their positions in the
// new file.
func (d *Daemon) prepareReplacements(ctx context.Context, next *config.Config) ([]*supervisor.Replacement, error) {
	var out []*supervisor.Replacement
	var errs config.Errors
	for _, run := range d.running {
		block, ok := findPlugin(pluginsOf(next, run.role), run.block.Name)
		if !ok || !block.Enabled {
			continue // needsRestart has refused this already
		}
		spec, err := Spec(next, run.role, block)
		if run.role == sdk.RoleResponder {
			spec.Host = d.responderHost(next.Responder)
		}
		if err == nil {
			spec, err = spec.Normalized()
		}
		if err != nil {
			errs = append(errs, asConfigErrors(err, block)...)
			continue
		}
		if sameSpec(run.plugin.Spec(), spec) {
			continue
		}
		r, err := run.plugin.Prepare(ctx, spec)
		if err != nil {
			errs = append(errs, asConfigErrors(err, block)...)
			continue
		}
		out = append(out, r)
	}
	if len(errs) > 0 {
		for _, r := range out {
			r.Abort()
		}
		return nil, errs
	}
	return out, nil
}

// sameSpec reports whether two normalized specs launch the same plugin
// with the same settings.
func sameSpec(a, b supervisor.Spec) bool {
	return a.Path == b.Path && a.SHA256 == b.SHA256 && a.Timeout == b.Timeout && bytes.Equal(a.Config, b.Config) &&
		slices.Equal(a.Env, b.Env) && samePolicy(a.Host, b.Host)
}

// samePolicy reports whether two plugin hosts carry the same safety policy
// (or none): a responder whose policy changed is replaced to learn it.
func samePolicy(a, b sdk.Host) bool {
	pa, oka := sdk.SafetyPolicyOf(a)
	pb, okb := sdk.SafetyPolicyOf(b)
	return oka == okb && slices.Equal(pa.Protected, pb.Protected) && slices.Equal(pa.Actions, pb.Actions) && pa.RequireOptIn == pb.RequireOptIn
}

// needsRestart lists the differences between cur and next that a reload
// cannot apply.
func needsRestart(cur, next *config.Config) []string {
	var out []string
	differs := func(what string, a, b any) {
		if !reflect.DeepEqual(a, b) {
			out = append(out, what)
		}
	}
	differs("the redis block", cur.Redis, next.Redis)
	differs("the http block", cur.HTTP, next.HTTP)
	differs("log_format", cur.LogFormat, next.LogFormat)
	// A daemon's name on the bus, and its containers' names, are fixed
	// for its life: the keys written under the old ones would be orphans.
	differs("host", cur.Host, next.Host)
	differs("fleet", cur.Fleet, next.Fleet)
	differs("monitor.enabled", cur.Monitor.Enabled, next.Monitor.Enabled)
	differs("analyzer.enabled", cur.Analyzer.Enabled, next.Analyzer.Enabled)
	differs("responder.enabled", cur.Responder.Enabled, next.Responder.Enabled)
	differs("alert.enabled", cur.Alert.Enabled, next.Alert.Enabled)
	differs("alert.dedupe_window", cur.Alert.DedupeWindow, next.Alert.DedupeWindow)
	differs("the alert storm block", cur.Alert.Storm, next.Alert.Storm)
	differs("the alert trouble block", cur.Alert.Trouble, next.Alert.Trouble)
	differs("the alert silences", silencesOf(cur), silencesOf(next))
	for _, role := range roles {
		differs(role+": the enabled plugins or their order", enabledNames(pluginsOf(cur, role)), enabledNames(pluginsOf(next, role)))
	}
	for _, p := range enabled(cur.Alert.Plugins) {
		if q, ok := findPlugin(next.Alert.Plugins, p.Name); ok {
			differs(fmt.Sprintf("alert plugin %q: events, min_severity or containers", p.Name),
				[]any{p.Events, p.MinSeverity, p.Containers}, []any{q.Events, q.MinSeverity, q.Containers})
		}
	}
	return out
}

// silencesOf is the config's silences without their positions.
func silencesOf(c *config.Config) []config.Silence {
	out := slices.Clone(c.Alert.Silences)
	for i := range out {
		out[i].Pos = config.Pos{}
	}
	return out
}

// settingsChanged names the live settings a reload changed, for its log line.
func settingsChanged(cur, next *config.Config) []string {
	var out []string
	if !reflect.DeepEqual(Policy(cur.Responder), Policy(next.Responder)) {
		out = append(out, "responder policy")
	}
	if Thresholds(cur.Monitor, cur.Responder.Breaker) != Thresholds(next.Monitor, next.Responder.Breaker) {
		out = append(out, "monitor thresholds")
	}
	if cur.LogLevel != next.LogLevel {
		out = append(out, "log_level")
	}
	return out
}

var roles = []string{sdk.RoleMonitor, sdk.RoleAnalyzer, sdk.RoleResponder, sdk.RoleAlert}

func pluginsOf(c *config.Config, role string) []config.Plugin {
	switch role {
	case sdk.RoleMonitor:
		return c.Monitor.Plugins
	case sdk.RoleAnalyzer:
		return c.Analyzer.Plugins
	case sdk.RoleResponder:
		return c.Responder.Plugins
	}
	return c.Alert.Plugins
}

func enabled(blocks []config.Plugin) []config.Plugin {
	return slices.DeleteFunc(slices.Clone(blocks), func(p config.Plugin) bool { return !p.Enabled })
}

func enabledNames(blocks []config.Plugin) []string {
	var names []string
	for _, p := range enabled(blocks) {
		names = append(names, p.Name)
	}
	return names
}

func findPlugin(blocks []config.Plugin, name string) (config.Plugin, bool) {
	i := slices.IndexFunc(blocks, func(p config.Plugin) bool { return p.Name == name })
	if i < 0 {
		return config.Plugin{}, false
	}
	return blocks[i], true
}
