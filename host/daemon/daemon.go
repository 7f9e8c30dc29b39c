package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hemostat/hemostat/host/bus"
	"github.com/hemostat/hemostat/host/config"
	"github.com/hemostat/hemostat/host/feed"
	"github.com/hemostat/hemostat/host/gate"
	"github.com/hemostat/hemostat/host/httpapi"
	"github.com/hemostat/hemostat/host/overview"
	"github.com/hemostat/hemostat/host/redisconn"
	"github.com/hemostat/hemostat/host/role"
	"github.com/hemostat/hemostat/host/silence"
	"github.com/hemostat/hemostat/host/supervisor"
	"github.com/hemostat/hemostat/sdk"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Options are what main hands the daemon.
type Options struct {
	Config *config.Config
	Logger hclog.Logger
	// Self is hemostatd's own executable, re-executed for built-in plugins.
	Self    string
	Version string
	// Ready, when set, is called once everything is started; tests use it
	// to learn the HTTP address.
	Ready func(*Daemon)
	// Reload, when set, delivers the signals (SIGHUP) that make the daemon
	// re-read its config file; see Reload.
	Reload <-chan os.Signal
}

// Daemon is a running hemostatd.
type Daemon struct {
	cfg        *config.Config
	log        hclog.Logger
	bus        *bus.Bus
	supervisor *supervisor.Supervisor
	gate       *gate.Gate
	silences   *silence.Store
	trouble    *ownTrouble
	http       *httpapi.Server
	overview   *overview.Model
	// foreign is hemostat_foreign_actions_total, handed to plugins' hosts.
	foreign prometheus.Counter

	// What a config reload changes while the daemon runs.
	reloadMu  sync.Mutex
	reloads   *reloadMetrics
	running   []runningPlugin
	monitor   *role.Monitor
	responder *role.Responder
	// dryRun is the heartbeat's copy of the setting; only beat uses it.
	dryRun bool
	// fleet is this daemon's host and whether it is one of a fleet.
	fleet role.Fleet
	// standby says whether this daemon acts on its engine (the lease).
	standby *standby
}

// runningPlugin is one started plugin with its role and block.
type runningPlugin struct {
	role string
	started
}

// HTTPAddr is the address the HTTP server listens on, "" when disabled.
func (d *Daemon) HTTPAddr() string {
	if d.http == nil {
		return ""
	}
	return d.http.Addr()
}

// shutdownGrace bounds the orderly part of a shutdown: plugin Shutdown
// calls and the last event-log flush.
const shutdownGrace = 10 * time.Second

// Run runs hemostatd until ctx ends or a fatal error (Redis gone for good,
// a broken plugin config). It stops every plugin process on every path.
func Run(ctx context.Context, opts Options) (err error) {
	cfg, log := opts.Config, opts.Logger
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := newMetrics(reg)
	m.zero(cfg)

	redisconn.SetClientLogger(log.Named("redis"))
	client, redisCloser, err := redisconn.Open(ctx, redisConfig(cfg.Redis), log.Named("redis"))
	if err != nil {
		return err
	}
	defer closeQuietly(log, "redis", redisCloser)

	d := &Daemon{cfg: cfg, log: log, reloads: newReloadMetrics(reg), trouble: newOwnTrouble(cfg.Alert.Trouble), foreign: m.foreign}
	d.fleet = role.Fleet{Host: hostName(ctx, cfg, log), Enabled: cfg.Fleet}
	embedded, _ := redisconn.EmbeddedAddress(redisCloser)
	d.standby = newStandby(reg, log.Named("lease"))
	runLease := d.standby.start(ctx, cfg.Lease, client, embedded != "", d.fleet.Host)
	busOpts := bus.Options{
		Logger: log, Registerer: reg,
		OnConnection: func(up bool, err error) {
			if up {
				d.standby.redisBack(ctx)
			}
			d.trouble.connection(up, err)
		},
		Delivery: cfg.Redis.Delivery, ClaimMinIdle: cfg.Redis.ClaimMinIdle,
		Host: d.fleet.Host, ReadWhile: d.standby.active,
	}
	if cfg.Fleet {
		// Every host reads every entry and keeps its own; see role.Fleet.
		busOpts.Group = bus.FleetGroup(d.fleet.Host)
	}
	d.bus = bus.New(client, busOpts)
	// The overview hears every envelope from the start, before the roles
	// publish anything.
	d.overview = overview.New(overview.Options{Registerer: reg, Relapse: cfg.Responder.Backoff.ResetAfter})
	d.overview.Subscribe(d.bus)
	d.silences = silence.NewStore(client, role.SilenceEvents())
	applySilences(ctx, d.silences, cfg.Alert.Silences, log.Named("alert"))
	d.supervisor = supervisor.New(supervisor.Options{
		Logger: log, Self: opts.Self, Host: d.pluginHost(), Registerer: reg, OnEvent: d.trouble.pluginEvent,
	})
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
		defer cancel()
		d.supervisor.Stop(stopCtx)
		if cerr := d.bus.Close(stopCtx); cerr != nil {
			log.Error("final event-log flush", "error", cerr)
		}
	}()

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Role work — a plugin call, a restart under way, its report — runs
	// under workCtx, which outlives runCtx by shutdownGrace: SIGTERM stops
	// new work at once but lets work under way finish and be reported.
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	if runLease != nil {
		// The lease is released only after the work under way is done
		// (the deferred closeRoles below runs first): a standby must not
		// take over while this daemon still restarts a container.
		leaseCtx, stopLease := context.WithCancel(context.WithoutCancel(ctx))
		leaseDone := make(chan struct{})
		go func() {
			defer close(leaseDone)
			_ = runLease(leaseCtx)
		}()
		defer func() {
			stopLease()
			<-leaseDone
		}()
	}
	runners, closers, err := d.startRoles(runCtx, workCtx, m)
	defer func() {
		closeRoles(log, closers, cancelWork)
		if n := d.abandoned(); n > 0 && err == nil {
			err = fmt.Errorf("the shutdown grace (%s) cut off %d action(s) under way; each was reported failed", shutdownGrace, n)
		}
	}()
	if err != nil {
		return err
	}
	// With streams, the consumer groups exist before anyone is told that
	// hemostatd is up: what is published from then on is read.
	if err := d.bus.Prepare(runCtx); err != nil {
		return err
	}
	if cfg.HTTP.Address != "" {
		runners = append(runners, d.serveOverview(client))
		hub := feed.NewHub(reg)
		runners = append(runners, func(ctx context.Context) error { return feed.Tap(ctx, client, hub) })
		host := d.fleet.Host
		redisAddr := embedded
		if redisAddr == "" {
			redisAddr = strings.Join(cfg.Redis.Addresses, ",")
		}
		d.http, err = httpapi.Listen(httpapi.Options{
			Address: cfg.HTTP.Address, Token: cfg.HTTP.Token, Logger: log.Named("http"),
			Gatherer: reg, Bus: d.bus, Supervisor: d.supervisor, Gate: d.gate, Silences: d.silences, Version: opts.Version,
			Overview: d.overview, Hub: hub, Redis: client,
			Host: host, RedisAddr: redisAddr, EmbeddedRedis: embedded != "",
			DryRun: func() bool { return d.gate.Policy().DryRun },
			Pprof:  cfg.HTTP.Pprof,
		})
		if err != nil {
			return err
		}
		runners = append(runners, d.http.Serve)
	}
	runners = append(runners, d.bus.Run)
	if embedded != "" {
		defer d.writeAddrFile(embedded)()
	}
	runners = append(runners, d.heartbeat(client, embedded, opts.Version))
	if opts.Reload != nil {
		runners = append(runners, d.runReloads(opts.Reload))
	}

	log.Info("hemostatd running", "version", opts.Version, "config", cfg.File, "http", d.HTTPAddr(), "host", d.fleet.Host, "fleet", cfg.Fleet)
	if opts.Ready != nil {
		opts.Ready(d)
	}
	err = runAll(runCtx, cancel, log, runners)
	if fatal := (*bus.FatalError)(nil); errors.As(err, &fatal) {
		// The last thing the alert plugins hear, delivered before the
		// roles close.
		d.trouble.RedisGone(err)
	}
	return err
}

// runAll runs every runner until ctx ends or one fails; the first failure
// stops the others and is returned.
func runAll(ctx context.Context, cancel context.CancelFunc, log hclog.Logger, runners []func(context.Context) error) error {
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for _, run := range runners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				once.Do(func() { first = err })
				cancel()
			}
		}()
	}
	wg.Wait()
	return first
}

// abandoned is how many actions the shutdown cut off under way.
func (d *Daemon) abandoned() int {
	if d.responder == nil {
		return 0
	}
	return d.responder.Abandoned()
}

// closeRoles lets the roles finish the work under way, for shutdownGrace at
// most; then it cancels what is left. It runs before the plugins are
// stopped and the bus closed, which the work still needs.
func closeRoles(log hclog.Logger, closers []func(), cancelWork context.CancelFunc) {
	done := make(chan struct{})
	go func() {
		var wg sync.WaitGroup
		for _, c := range closers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c()
			}()
		}
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(shutdownGrace):
		log.Warn("work under way did not finish within the shutdown grace; cancelling it", "grace", shutdownGrace)
		cancelWork()
		<-done
	}
}

// startRoles starts the plugins of every enabled role and registers the
// role runners on the bus. It returns the runners that loop on their own,
// and the roles' closers. ctx is the runners'; work is what the roles'
// plugin calls and publishes run under.
func (d *Daemon) startRoles(ctx, work context.Context, m *metrics) (runners []func(context.Context) error, closers []func(), err error) {
	cfg := d.cfg
	var errs config.Errors
	collect := func(err error) {
		var ce config.Errors
		if errors.As(err, &ce) {
			errs = append(errs, ce...)
		} else if err != nil {
			errs = append(errs, config.Error{Msg: err.Error()})
		}
	}
	thresholds := Thresholds(cfg.Monitor, cfg.Responder.Breaker)
	// containers maps the IDs the monitor reports to names, so that the
	// gate judges the container a request's reference resolves to.
	containers := role.NewContainers()

	if cfg.Monitor.Enabled {
		plugins, err := startRole(ctx, d.supervisor, cfg, sdk.RoleMonitor, cfg.Monitor.Plugins, nil)
		collect(err)
		mon := &role.Monitor{Bus: d.bus, Detect: thresholds, Logger: d.log.Named("monitor"), Fleet: d.fleet, OnSample: func(s sdk.Sample) {
			m.sample(s)
			containers.Observe(s)
			d.overview.Sample(s)
		}}
		mon.Active = d.standby.active
		d.monitor = mon
		d.track(sdk.RoleMonitor, plugins)
		for _, p := range plugins {
			mon.Plugins = append(mon.Plugins, p.plugin.Monitor())
		}
		runners = append(runners, d.standby.whileActive(mon.Run))
	}
	// The analyzer's read of an alert's history serves the responder's
	// action on the decision too, when both run here; and the monitor
	// makes the analyzer's read with the alert, when both run here.
	var handoff *role.Handoff
	if cfg.Analyzer.Enabled && cfg.Responder.Enabled {
		handoff = role.NewHandoff(role.DecisionMaxAge)
	}
	var prefetch *role.Handoff
	if cfg.Monitor.Enabled && cfg.Analyzer.Enabled {
		prefetch = role.NewHandoff(role.PrefetchMaxAge)
		d.monitor.Prefetch, d.monitor.PrefetchHistory = prefetch, role.DefaultHistorySize
	}
	if cfg.Analyzer.Enabled {
		plugins, err := startRole(ctx, d.supervisor, cfg, sdk.RoleAnalyzer, cfg.Analyzer.Plugins, nil)
		collect(err)
		an := &role.Analyzer{Bus: d.bus, Logger: d.log.Named("analyzer"), OnDecision: m.decision, OnDuplicate: m.duplicate, Workers: cfg.Analyzer.Workers, Fleet: d.fleet,
			Active: d.standby.active, Handoff: handoff, Prefetch: prefetch, HistorySize: role.DefaultHistorySize}
		d.track(sdk.RoleAnalyzer, plugins)
		for _, p := range plugins {
			an.Chain = append(an.Chain, role.NamedAnalyzer{Name: p.block.Name, Analyzer: p.plugin.Analyzer()})
		}
		an.Register(work)
		closers = append(closers, an.Close)
	}
	d.gate = gate.New(Policy(cfg.Responder), time.Now)
	if cfg.Responder.Enabled {
		// Responder plugins get the policy too, and apply it to the
		// container they resolve: no request skips it.
		plugins, err := startRole(ctx, d.supervisor, cfg, sdk.RoleResponder, cfg.Responder.Plugins, d.responderHost(cfg.Responder))
		collect(err)
		re := &role.Responder{Bus: d.bus, Gate: d.gate, Containers: containers, Detect: thresholds, Logger: d.log.Named("responder"), OnResult: m.result, Fleet: d.fleet,
			Active: d.standby.active, Fence: d.standby.fence, Handoff: handoff, Term: d.standby.term}
		d.responder = re
		d.track(sdk.RoleResponder, plugins)
		for _, p := range plugins {
			re.Plugins = append(re.Plugins, role.NamedResponder{Name: p.block.Name, Responder: p.plugin.Responder()})
		}
		re.Register(work)
		closers = append(closers, re.Close)
		runners = append(runners, re.Run)
	}
	// The alert role always runs: with alert plugins disabled, the log
	// alert still reports everything.
	al := &role.Alert{
		Bus: d.bus, Silences: d.silences, DedupeWindow: cfg.Alert.DedupeWindow, Logger: d.log.Named("alert"), Fleet: d.fleet,
		Storm:    role.Storm{Containers: cfg.Alert.Storm.Containers, Window: cfg.Alert.Storm.Window, Wait: cfg.Alert.Storm.Wait},
		OnNotify: m.notify, OnHeld: m.held, OnSilenced: m.silenced,
		Active: d.standby.active,
	}
	if cfg.Alert.Enabled {
		plugins, err := startRole(ctx, d.supervisor, cfg, sdk.RoleAlert, cfg.Alert.Plugins, nil)
		collect(err)
		d.track(sdk.RoleAlert, plugins)
		for _, p := range plugins {
			al.Routes = append(al.Routes, role.Route{
				Name: p.block.Name, Notifier: p.plugin.Notifier(), Events: p.block.Events, MinSeverity: p.block.MinSeverity,
				Containers: p.block.Containers,
			})
		}
	}
	al.Register(work)
	d.trouble.start(work, al)
	closers = append(closers, al.Close)
	if len(errs) > 0 {
		return nil, closers, errs
	}
	return runners, closers, nil
}

// track remembers a role's started plugins for config reloads.
func (d *Daemon) track(role string, plugins []started) {
	for _, p := range plugins {
		d.running = append(d.running, runningPlugin{role: role, started: p})
	}
}

// Thresholds maps the monitor section to the detector's settings. The
// breaker is the one restart-loop policy: Docker's own restart policy gets
// the allowance the breaker gives hemostatd's restarts, and the crash
// after it is a restart loop.
func Thresholds(c config.Monitor, b config.Breaker) role.Thresholds {
	th := role.Thresholds{
		CPUPct: c.CPUPct, MemoryPct: c.MemoryPct, Sustain: c.Sustain, Grace: c.Grace, Realert: c.Realert,
		LeakForecast: c.LeakForecast, LeakHorizon: c.LeakHorizon, LeakSamples: c.LeakSamples,
	}
	if b.MaxActions > 0 && b.Window > 0 {
		th.RestartLoopCount, th.RestartLoopWindow = b.MaxActions+1, b.Window
	}
	return th
}

// Policy maps the responder section to the safety gate's policy.
func Policy(c config.Responder) gate.Policy {
	return gate.Policy{
		MinConfidence: c.MinConfidence, Actions: c.Actions, Protected: c.Protected,
		RequireOptIn: c.RequireOptIn, DryRun: c.DryRun, Cooldown: c.Cooldown,
		Backoff: gate.Backoff{Initial: c.Backoff.Initial, Max: c.Backoff.Max, ResetAfter: c.Backoff.ResetAfter},
		Breaker: gate.Breaker{MaxActions: c.Breaker.MaxActions, Window: c.Breaker.Window},
	}
}

func redisConfig(c config.Redis) redisconn.Config {
	return redisconn.Config{
		Addresses: c.Addresses, SentinelMaster: c.SentinelMaster, Username: c.Username, Password: c.Password, DB: c.DB,
		TLS: redisconn.TLSConfig{
			Enabled: c.TLS.Enabled, CAFile: c.TLS.CAFile, CertFile: c.TLS.CertFile, KeyFile: c.TLS.KeyFile,
			ServerName: c.TLS.ServerName, InsecureSkipVerify: c.TLS.InsecureSkipVerify,
		},
	}
}

func closeQuietly(log hclog.Logger, what string, c io.Closer) {
	if c == nil {
		return
	}
	if err := c.Close(); err != nil {
		log.Warn(fmt.Sprintf("close %s", what), "error", err)
	}
}
