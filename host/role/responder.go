package role

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hemostat/hemostat/host/bus"
	"github.com/hemostat/hemostat/host/gate"
	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/host/supervisor"
	"github.com/hemostat/hemostat/sdk"
)

// responderWorkers is how many containers are acted on at once.
const responderWorkers = 8

// NamedResponder is one responder plugin.
type NamedResponder struct {
	Name      string
	Responder sdk.Responder
}

// Responder is the responder role: remediation_needed → safety gate →
// Remediate → remediation_complete and the remediation key.
type Responder struct {
	Bus     *bus.Bus
	Gate    *gate.Gate
	Plugins []NamedResponder
	// Containers resolves a request's container reference (an ID, an ID
	// prefix) to the name the gate judges; optional.
	Containers *Containers
	// Detect tells the re-check of a deferred action whether the container
	// is still sick, with the same thresholds the monitor role uses.
	Detect Thresholds
	Logger hclog.Logger
	// OnResult is an optional observer, for metrics.
	OnResult func(container string, r protocol.Result)
	// Active, when set, makes a standby daemon leave the requests to the
	// active one; Fence is checked right before each action, so that a
	// daemon that lost its lease while the request waited does not act.
	Active Active
	Fence  Fence
	// Term identifies the lease term this daemon holds, changing at each
	// acquisition (nil or 0 without a lease). At each new term the gate's
	// state is read back from Redis, where the daemon that acted last left
	// it (see gatestate.go).
	Term func() int64
	// PluginRetryDelay is the wait before a request whose responder plugin
	// could not be reached is tried again; default 5s.
	PluginRetryDelay time.Duration
	// Fleet limits the role to its own host's containers: a request naming
	// another host's, or in a fleet no host, is refused and logged, never
	// acted on and never answered (the owner's responder answers).
	Fleet Fleet
	// Handoff, when set, holds the history this process's analyzer read
	// to judge the alert a request answers; the responder uses it instead
	// of reading the same history again on the way to the action.
	Handoff *Handoff

	work    *pool
	workCtx context.Context
	pub     *publisher
	wakeup  chan struct{}
	live    liveThresholds // a reload's Detect

	mu      sync.Mutex
	caps    map[string][]string                   // plugin name → actions
	parked  map[string]protocol.RemediationNeeded // container → deferred request
	retries map[string]int                        // container → unreachable-plugin tries in a row
	loaded  map[string]int64                      // container → term its gate state was read in
	term    int64                                 // the term whose gate states were all read back
	termSet bool

	abandoned atomic.Int64 // actions cut off by the shutdown
}

// Register subscribes the role to its channel; call before the bus runs.
// ctx bounds the role's work — plugin calls and publishes — and should
// outlive the bus's run by a grace period, so that an action under way at
// shutdown completes and is reported (see Close).
func (r *Responder) Register(ctx context.Context) {
	r.work, r.workCtx = newPool(responderWorkers, queuePerWorker*responderWorkers, r.Logger), ctx
	r.pub = &publisher{bus: r.Bus, agent: protocol.AgentResponder, log: r.Logger}
	r.wakeup = make(chan struct{}, 1)
	r.caps = map[string][]string{}
	r.Bus.Subscribe(protocol.TypeRemediationNeeded, func(busCtx context.Context, env protocol.Envelope) {
		if !r.Active.now() {
			return
		}
		var need protocol.RemediationNeeded
		if err := protocol.DecodeData(env, &need); err != nil {
			r.Bus.CountInvalid(env, err)
			return
		}
		// Resolved first: an ID names a container of this host. Refused
		// before the request is taken, so that the owner can take it.
		need = r.resolve(need)
		if _, why := r.Fleet.local(need.Container); why != "" {
			r.refuseForeign(need, why)
			return
		}
		if r.Bus.Streaming() && !r.takeRequest(busCtx, env, &need) {
			return
		}
		done := bus.Hold(busCtx)
		r.work.do(busCtx, need.Container, func() { r.handle(ctx, need, false); done() })
	})
}

// takeRequest makes the responder act at most once per request when
// delivery through streams may hand one over twice (a claim, a restart):
// it takes the request's ID in Redis with SET NX and reports whether this
// delivery is the first. A request without an ID (from an analyzer of
// another make) is named by its envelope. If Redis cannot say, the
// request is acted on: a missed remediation is worse than a repeated one.
func (r *Responder) takeRequest(ctx context.Context, env protocol.Envelope, need *protocol.RemediationNeeded) bool {
	if need.RequestID == "" {
		need.RequestID = protocol.RequestID(env)
	}
	ok, err := r.Bus.TakeRequest(ctx, need.RequestID)
	if err != nil {
		r.Logger.Warn("cannot check whether the request was acted on; acting", "container", need.Container, "request_id", need.RequestID, "error", err)
		return true
	}
	if !ok {
		r.Logger.Info("request delivered again; already taken up, skipped", "container", need.Container, "action", need.Action, "request_id", need.RequestID)
	}
	return ok
}

// refuseForeign logs a request this responder must not act on. Nothing is
// published: another host's request is its own responder's to answer, and
// a rejection from every other daemon of the fleet would drown the one
// answer that matters. A request that names no host, which no responder
// will take, is a warning; another host's, the normal lot of a fleet, is
// not.
func (r *Responder) refuseForeign(need protocol.RemediationNeeded, why string) {
	if _, _, ok := protocol.SplitQualified(need.Container); ok {
		r.Logger.Debug("request for another host's container; not acted on", "container", need.Container, "action", need.Action, "reason", why)
		return
	}
	r.Logger.Warn("request refused; not acted on", "container", need.Container, "action", need.Action, "reason", why)
}

// resolve replaces a request's container reference by the name of the
// container it names, so that every rule, the backoff and the breaker apply
// to that container however it was named. The responder plugin resolves
// the reference again against the engine, and applies the rules once more
// to what it finds.
func (r *Responder) resolve(need protocol.RemediationNeeded) protocol.RemediationNeeded {
	name, ok := r.Containers.Resolve(need.Container)
	if !ok || name == need.Container {
		return need
	}
	r.Logger.Info("container reference resolved", "reference", need.Container, "container", name)
	need.Container = name
	return need
}

// Run serves deferred actions until ctx ends: when a container's backoff
// expires, its parked request is re-checked and acted on if the container
// is still sick. The work itself runs under Register's context.
func (r *Responder) Run(ctx context.Context) error {
	work := r.workCtx
	for {
		r.restoreTerm(ctx)
		// A takeover is noticed within termPoll, to read the gate's
		// state back and carry out the parked actions it holds.
		wait := termPoll
		if at, ok := r.Gate.NextDue(); ok {
			wait = min(max(time.Until(at), 0), termPoll)
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-r.wakeup:
			timer.Stop()
		case <-timer.C:
			if !r.Active.now() {
				// The active daemon keeps its own deferred actions.
				r.Gate.Due()
				continue
			}
			for _, req := range r.Gate.Due() {
				need := protocol.RemediationNeeded{Container: req.Container, Action: req.Action, Confidence: req.Confidence}
				if parked, ok := r.parkedNeed(req.Container); ok {
					need = parked
				}
				r.work.do(ctx, req.Container, func() { r.handle(work, need, true) })
			}
		}
	}
}

// Close refuses new requests and waits until the actions under way are
// done and reported.
func (r *Responder) Close() {
	if r.work != nil {
		r.work.close()
		r.pub.wait()
	}
}

func (r *Responder) handle(ctx context.Context, need protocol.RemediationNeeded, recheck bool) {
	if r.loadGate(ctx, need.Container) {
		// A request that came before the term's full read (a takeover's
		// first sync alerts at once): the same news, for this container.
		r.Logger.Info("gate state read back from Redis: backoff and breaker continue", "container", need.Container, "term", r.currentTerm())
	}
	defer r.saveGate(ctx, need.Container)
	var newest sdk.Sample
	if h, ok := r.Handoff.take(need.Container, need.RequestID); ok && !recheck {
		newest = r.observed(need.Container, h.History)
	} else {
		newest = r.observe(ctx, need.Container)
	}
	if recheck {
		if sick, why := r.stillSick(need, newest); !sick {
			r.complete(ctx, need, protocol.Result{Status: sdk.StatusSkipped, Reason: "deferred action dropped on re-check: " + why})
			return
		}
	}
	req := gate.Request{Container: need.Container, Action: need.Action, Confidence: need.Confidence, Labels: newest.Labels}
	v := r.Gate.Check(req)
	switch v.Outcome {
	case gate.Reject:
		r.complete(ctx, need, protocol.Result{Status: sdk.StatusRejected, Reason: v.Reason})
		return
	case gate.Escalate:
		r.complete(ctx, need, protocol.Result{Status: sdk.StatusRejected, Reason: v.Reason})
		if v.FirstEscalation {
			esc := protocol.Escalation{Container: need.Container, Reason: v.Reason, Source: protocol.EscalatedByBreaker, Action: need.Action, Issues: need.Issues}
			r.pub.publish(ctx, protocol.TypeEscalation, esc, need.Container)
		}
		return
	case gate.Defer:
		// Parked before the gate can hand the request back, so that the
		// retry always carries the full request.
		r.park(need)
		retryAt := r.Gate.Defer(req)
		// Saved before the result is published: whoever reads the result
		// and takes the lease next finds the parked request in Redis.
		r.saveGate(ctx, need.Container)
		r.complete(ctx, need, protocol.Result{Status: sdk.StatusDeferred, Reason: v.Reason, RetryAt: protocol.FormatTimestamp(retryAt)})
		select {
		case r.wakeup <- struct{}{}:
		default:
		}
		return
	}
	r.act(ctx, need, newest, v.DryRun)
}

func (r *Responder) act(ctx context.Context, need protocol.RemediationNeeded, newest sdk.Sample, dryRun bool) {
	plugin, ok, err := r.pluginFor(ctx, need.Action)
	if !ok {
		if err != nil {
			r.retryLater(ctx, need, err)
			return
		}
		r.complete(ctx, need, protocol.Result{Status: sdk.StatusRejected, Reason: fmt.Sprintf("no responder plugin offers the action %q", need.Action)})
		return
	}
	// The last moment before the engine is touched: a daemon that lost its
	// lease since the request came (paused past it, cut from Redis) leaves
	// the container to the daemon that holds it now, and reports nothing,
	// since the request is not its to answer.
	if err := r.Fence.check(ctx); err != nil {
		r.Logger.Warn("not acting: this daemon does not hold its engine's lease", "container", need.Container, "action", need.Action, "error", err)
		return
	}
	// The engine knows the container by its own name, not the fleet's.
	name, _ := r.Fleet.local(need.Container)
	res, err := plugin.Responder.Remediate(ctx, sdk.RemediateRequest{
		Container: name, Action: need.Action, Reason: need.Reason, Confidence: need.Confidence,
		DryRun: dryRun, Params: remediateParams(need, newest),
	})
	if errors.Is(err, supervisor.ErrUnavailable) {
		// The plugin crashed or is restarting. A call that never left
		// the host touched nothing: no backoff, no breaker. One the
		// plugin died during may have begun the action — a restart half
		// done is a restart — so it counts as a failed attempt, and the
		// retry goes through the backoff it set. Either way the request
		// is not dropped: it is tried again shortly.
		if !errors.Is(err, supervisor.ErrNotSent) {
			r.recordAttempt(ctx, need, sdk.StatusFailed)
		}
		r.retryLater(ctx, need, err)
		return
	}
	r.forgetRetries(need.Container)
	if err != nil && ctx.Err() != nil {
		// hemostatd's shutdown grace ran out with the action under way:
		// it may be half done, and whoever watches Redis must hear so.
		r.abandoned.Add(1)
		report, cancel := context.WithTimeout(context.WithoutCancel(ctx), abandonedReportTimeout)
		defer cancel()
		r.recordAttempt(report, need, sdk.StatusFailed)
		r.complete(report, need, protocol.Result{Status: sdk.StatusFailed, Reason: need.Reason,
			Error: "cut off by hemostatd's shutdown with the action under way (responder plugin " + plugin.Name + ": " + err.Error() + ")"})
		return
	}
	// Any other error (a deadline, the plugin's own failure) came after
	// the plugin was asked: it may well have touched the container, so
	// it counts as a failed action.
	if err != nil {
		res = sdk.Result{Status: sdk.StatusFailed, Error: "responder plugin " + plugin.Name + ": " + err.Error()}
	}
	if dryRun && res.Status == sdk.StatusSuccess {
		res.Status = sdk.StatusDryRun
	}
	out := protocol.Result{
		Status: res.Status, Reason: need.Reason, Error: res.Error, DurationMS: res.Duration.Milliseconds(),
		StateAfter: res.StateAfter, DryRun: dryRun, Details: res.Details,
	}
	if !dryRun && (res.Status == sdk.StatusSuccess || res.Status == sdk.StatusFailed) {
		r.recordAttempt(ctx, need, res.Status)
	}
	if res.Status == sdk.StatusFailed {
		r.Logger.Error("remediation failed", "container", need.Container, "action", need.Action, "error", res.Error)
	}
	r.complete(ctx, need, out)
}

// abandonedReportTimeout bounds the report of an action cut off at
// shutdown, made after the role's own context ended.
const abandonedReportTimeout = 2 * time.Second

// Abandoned returns how many actions the shutdown cut off under way.
func (r *Responder) Abandoned() int { return int(r.abandoned.Load()) }

// recordAttempt counts an action carried out or attempted in the gate's
// backoff and breaker and in the container's remediation record.
func (r *Responder) recordAttempt(ctx context.Context, need protocol.RemediationNeeded, status string) {
	r.Gate.Record(need.Container, need.Action, status)
	rec := sdk.Remediation{Time: time.Now().UTC(), Action: need.Action, Status: status, Reason: need.Reason}
	// The gate state is written with the record, in one script.
	var saved any
	if st, ok := r.Gate.Save(need.Container); ok && r.Active.now() {
		saved = st
	}
	if _, err := r.Bus.RecordAction(ctx, need.Container, rec, saved, r.Gate.Retention()); err != nil {
		r.Logger.Error("record remediation", "container", need.Container, "error", err)
	}
}

func (r *Responder) complete(ctx context.Context, need protocol.RemediationNeeded, res protocol.Result) {
	res.Action, res.Container = need.Action, need.Container
	data := protocol.RemediationComplete{
		Container: need.Container, Action: need.Action, Result: res,
		Analyzer: need.Analyzer, Confidence: need.Confidence, Issues: need.Issues, Metrics: need.Metrics,
		RequestID: need.RequestID, Judgement: need.Judgement,
	}
	r.pub.publish(ctx, protocol.TypeRemediationComplete, data, need.Container)
	if r.OnResult != nil {
		r.OnResult(need.Container, res)
	}
	r.Logger.Info("remediation", "container", need.Container, "action", need.Action, "status", res.Status,
		"reason", res.Reason, "error", res.Error)
}

// pluginFor returns the first responder whose capabilities include action.
// When none does but some could not be asked, the error says why, and the
// request is retried rather than refused.
func (r *Responder) pluginFor(ctx context.Context, action string) (NamedResponder, bool, error) {
	var unasked error
	for _, p := range r.Plugins {
		r.mu.Lock()
		caps, ok := r.caps[p.Name]
		r.mu.Unlock()
		if !ok {
			var err error
			if caps, err = p.Responder.Capabilities(ctx); err != nil {
				r.Logger.Warn("responder capabilities", "plugin", p.Name, "error", err)
				unasked = fmt.Errorf("responder plugin %s: %w", p.Name, err)
				continue
			}
			r.mu.Lock()
			r.caps[p.Name] = caps
			r.mu.Unlock()
		}
		if slices.Contains(caps, action) {
			return p, true, nil
		}
	}
	return NamedResponder{}, false, unasked
}

// Retries of a request whose responder plugin could not be reached: a
// minute at the default delay, longer than the supervisor's restart
// backoff takes to bring a crashed plugin back.
const (
	defaultPluginRetryDelay = 5 * time.Second
	pluginRetries           = 12
)

// retryLater reports the request deferred and hands it back to the
// responder after pluginRetryDelay, at most pluginRetries times in a row;
// then it is reported failed.
func (r *Responder) retryLater(ctx context.Context, need protocol.RemediationNeeded, cause error) {
	r.mu.Lock()
	if r.retries == nil {
		r.retries = map[string]int{}
	}
	r.retries[need.Container]++
	n := r.retries[need.Container]
	r.mu.Unlock()
	if n > pluginRetries {
		r.forgetRetries(need.Container)
		r.complete(ctx, need, protocol.Result{Status: sdk.StatusFailed, Reason: need.Reason,
			Error: fmt.Sprintf("no responder plugin could be reached in %d tries: %v", pluginRetries, cause)})
		return
	}
	delay := r.PluginRetryDelay
	if delay <= 0 {
		delay = defaultPluginRetryDelay
	}
	retryAt := time.Now().Add(delay)
	r.complete(ctx, need, protocol.Result{Status: sdk.StatusDeferred, RetryAt: protocol.FormatTimestamp(retryAt),
		Reason: fmt.Sprintf("responder plugin unavailable (%v); retrying in %s", cause, delay)})
	time.AfterFunc(delay, func() {
		if ctx.Err() == nil {
			r.work.do(ctx, need.Container, func() { r.handle(ctx, need, true) })
		}
	})
}

func (r *Responder) forgetRetries(container string) {
	r.mu.Lock()
	delete(r.retries, container)
	r.mu.Unlock()
}

// remediateParams tells the plugin what the host knows beyond the action:
// whether it answers a resource threshold (subject to the plugin's
// start-up grace) or a lifecycle event (acted on at once), and whether the
// monitor saw the container's last exit requested by someone — the best
// evidence there is that a stopped container must stay stopped.
func remediateParams(need protocol.RemediationNeeded, newest sdk.Sample) map[string]string {
	params := map[string]string{"trigger": trigger(need.Issues)}
	if newest.Event == sdk.EventDie || newest.Event == sdk.EventStop {
		params["stop_requested"] = strconv.FormatBool(newest.StopRequested)
	}
	return params
}

// observeDepth is how many recent samples the responder reads before
// acting: enough to see a removal among the events around it.
const observeDepth = 20

// observe reads the container's recent history and returns its newest
// sample — its labels feed the gate's opt-in and opt-out checks (nil when
// unknown) — and makes the gate forget the actions on a container removed
// since.
func (r *Responder) observe(ctx context.Context, container string) sdk.Sample {
	h, err := r.Bus.History(ctx, container, observeDepth)
	if err != nil {
		return sdk.Sample{}
	}
	return r.observed(container, h)
}

// observed is observe on a history already read, oldest first.
func (r *Responder) observed(container string, h []sdk.Sample) sdk.Sample {
	if len(h) == 0 {
		return sdk.Sample{}
	}
	h = h[max(0, len(h)-observeDepth):]
	for i := len(h) - 1; i >= 0; i-- {
		if h[i].Event == sdk.EventDestroy {
			if r.Gate.ForgetActionsBefore(container, h[i].Time) {
				r.Logger.Info("container was removed since its last action; its backoff and breaker start over", "container", container)
			}
			break
		}
	}
	return h[len(h)-1]
}

// stillSick re-checks a container whose action was deferred, from the
// newest sample the monitor wrote to Redis (zero when there is none).
func (r *Responder) stillSick(need protocol.RemediationNeeded, s sdk.Sample) (bool, string) {
	if s.Container == "" {
		return true, "no samples; acting on the original alert"
	}
	switch {
	case s.Event == sdk.EventDestroy || s.Status == "removed":
		return false, "the container no longer exists"
	case s.Status == "paused":
		return false, "the container is paused"
	case s.Status == "exited" || s.Status == "dead":
		if s.StopRequested {
			return false, "the container was stopped on purpose"
		}
		return true, ""
	case s.Health == sdk.HealthUnhealthy:
		return true, ""
	}
	if fc, ok := leakForecast(need.Issues); ok {
		// A leak still at or above the figure it was forecast from has
		// not been cured; a restart since would have brought it down.
		if s.MemoryPct >= fc.Pct {
			return true, ""
		}
		return false, fmt.Sprintf("memory %.1f%% is below the %.1f%% the leak was forecast from: the container was restarted or the leak stopped", s.MemoryPct, fc.Pct)
	}
	th := r.live.get(r.Detect)
	cpuLimit := labelFloat(s.Labels, LabelCPUPct, th.CPUPct)
	memLimit := labelFloat(s.Labels, LabelMemoryPct, th.MemoryPct)
	if trigger(need.Issues) == "resource" && (s.CPUPct > cpuLimit || s.MemoryPct > memLimit) {
		return true, ""
	}
	return false, fmt.Sprintf("the container is %s and within its thresholds (CPU %.1f%%, memory %.1f%%)", s.Status, s.CPUPct, s.MemoryPct)
}

// trigger tells the responder plugin whether an action answers a resource
// threshold (subject to its start-up grace) or a lifecycle event (acted on
// at once). A leak forecast counts as a lifecycle event: it projects an
// OOM kill within the horizon, which no warm-up excuses — skipping the
// restart would only trade it for the kill — and the monitor already held
// it back for its own grace.
func trigger(issues []string) string {
	if _, ok := leakForecast(issues); ok {
		return "lifecycle"
	}
	for _, is := range issues {
		if !strings.HasPrefix(is, protocol.IssuePrefixHighCPU) && !strings.HasPrefix(is, protocol.IssuePrefixHighMemory) {
			return "lifecycle"
		}
	}
	if len(issues) == 0 {
		return "lifecycle"
	}
	return "resource"
}

// leakForecast finds the monitor's leak forecast among an alert's issues.
func leakForecast(issues []string) (sdk.MemoryForecast, bool) {
	for _, is := range issues {
		if fc, ok := sdk.ParseMemoryForecast(is); ok {
			return fc, true
		}
	}
	return sdk.MemoryForecast{}, false
}

// park keeps the full remediation_needed of a deferred action so that the
// retry carries the original reason and issues.
func (r *Responder) park(need protocol.RemediationNeeded) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.parked == nil {
		r.parked = map[string]protocol.RemediationNeeded{}
	}
	r.parked[need.Container] = need
}

func (r *Responder) parkedNeed(container string) (protocol.RemediationNeeded, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	need, ok := r.parked[container]
	delete(r.parked, container)
	return need, ok
}
