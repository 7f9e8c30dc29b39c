package role

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hemostat/hemostat/host/bus"
	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/host/supervisor"
	"github.com/hemostat/hemostat/sdk"
)

// DefaultAnalyzerWorkers is sized for slow analyzers: an LLM call takes
// seconds, and an incident touches many containers at once.
const DefaultAnalyzerWorkers = 64

// DefaultHistorySize is how many recent samples an analyzer is given.
const DefaultHistorySize = 30

// queuePerWorker is how many items per worker a role's pool holds, waiting
// or running, before the bus is held up.
const queuePerWorker = 4

// NamedAnalyzer is one link of the analyzer chain.
type NamedAnalyzer struct {
	Name     string
	Analyzer sdk.Analyzer
}

// Analyzer is the analyzer role: health_alert → the analyzer chain →
// remediation_needed, false_alarm or escalation.
type Analyzer struct {
	Bus    *bus.Bus
	Chain  []NamedAnalyzer
	Logger hclog.Logger
	// HistorySize is how many recent samples an analyzer is given.
	HistorySize int
	// OnDecision is an optional observer, for metrics and benchmarks.
	OnDecision func(container string, d sdk.Decision, took time.Duration)
	// PluginRetryDelay is the wait before an alert is judged again when no
	// analyzer decided because one could not be reached or did not answer
	// in time; default 2s. PluginRetries bounds the tries after the first;
	// default 30 (a minute at the default delay: longer than the
	// supervisor takes to kill a hung plugin and bring a crashed one back).
	PluginRetryDelay time.Duration
	PluginRetries    int
	// Workers is how many alerts are judged at once, for different
	// containers; default DefaultAnalyzerWorkers.
	Workers int
	// OnDuplicate is an optional observer of an alert skipped because the
	// same envelope was judged already, for metrics.
	OnDuplicate func(container string)
	// Fleet limits the role to its own host's alerts, and those of no
	// host it claims first, so that each alert is judged once fleet-wide.
	Fleet Fleet
	// Handoff, when set, passes the history read for each alert to this
	// process's responder, which then need not read it again.
	Handoff *Handoff
	// Prefetch, when set, holds what this process's monitor read with
	// each alert it published: the analyzer judges on that read instead
	// of making its own.
	Prefetch *Handoff

	work *pool
	seen *envelopeRing
	pub  *publisher

	// Active, when set, makes a standby daemon leave the alerts to the
	// active one.
	Active Active

	mu      sync.Mutex
	closed  bool
	retries map[*time.Timer]string // alerts waiting to be judged again → container
}

// Register subscribes the role to its channel; call before the bus runs.
// ctx bounds the role's work — plugin calls and publishes — and should
// outlive the bus's run by a grace period, so that work under way at
// shutdown can finish (see Close).
func (a *Analyzer) Register(ctx context.Context) {
	if a.Workers <= 0 {
		a.Workers = DefaultAnalyzerWorkers
	}
	a.work = newPool(a.Workers, queuePerWorker*a.Workers, a.Logger)
	a.pub = &publisher{bus: a.Bus, agent: protocol.AgentAnalyzer, log: a.Logger}
	if a.HistorySize <= 0 {
		a.HistorySize = DefaultHistorySize
	}
	if a.PluginRetryDelay <= 0 {
		a.PluginRetryDelay = defaultAnalyzerRetryDelay
	}
	if a.PluginRetries <= 0 {
		a.PluginRetries = defaultAnalyzerRetries
	}
	a.seen = newEnvelopeRing(duplicateRingSize)
	a.Bus.Subscribe(protocol.TypeHealthAlert, func(busCtx context.Context, env protocol.Envelope) {
		if !a.Active.now() {
			return
		}
		var alert protocol.HealthAlert
		if err := protocol.DecodeData(env, &alert); err != nil {
			a.Bus.CountInvalid(env, err)
			return
		}
		if !a.Fleet.mine(busCtx, a.Bus, a.Logger, "analyzer", env, alert.Container) {
			return
		}
		// The same alert published again is one incident, not another:
		// judging each copy would queue an action per copy, and the
		// backoff's re-checks would carry some of them out.
		if a.seen.seen(env) {
			if a.OnDuplicate != nil {
				a.OnDuplicate(alert.Container)
			}
			return
		}
		// Acknowledged (with streams) once judged and published; an alert
		// the shutdown cuts off stays pending for the next hemostatd.
		done := bus.Hold(busCtx)
		a.work.do(busCtx, alert.Container, func() { a.handle(ctx, env, alert, 0, done) })
	})
}

// Defaults of Analyzer.PluginRetryDelay and PluginRetries.
const (
	defaultAnalyzerRetryDelay = 2 * time.Second
	defaultAnalyzerRetries    = 30
)

// Close refuses new alerts and waits until those being judged, and their
// publishes, are done.
// An alert waiting to be judged again is abandoned, and logged.
func (a *Analyzer) Close() {
	if a.work == nil {
		return
	}
	a.mu.Lock()
	a.closed = true
	for t, container := range a.retries {
		if t.Stop() {
			a.Logger.Error("alert abandoned at shutdown while its analyzer was unreachable", "container", container)
		}
	}
	clear(a.retries)
	a.mu.Unlock()
	a.work.close()
	a.pub.wait()
}

// handle judges one alert; retries counts the judgements before this one
// that an unreachable analyzer left undecided. done is called once the
// decision is published.
func (a *Analyzer) handle(ctx context.Context, env protocol.Envelope, alert protocol.HealthAlert, retries int, done func()) {
	started := time.Now()
	req := sdk.AnalyzeRequest{Alert: sdk.Alert{
		Container: alert.Container, Issues: alert.Issues, Metrics: alert.Metrics, Sample: alert.Sample,
	}}
	if t, err := env.Time(); err == nil {
		req.Alert.Time = t
	}
	id := protocol.RequestID(env)
	if pre, ok := a.Prefetch.take(alert.Container, id); ok && retries == 0 {
		req.History, req.Remediations = pre.History, pre.Remediations
	} else {
		var err error
		if req.History, req.Remediations, err = a.Bus.HistoryAndRemediations(ctx, alert.Container, a.HistorySize); err != nil {
			a.Logger.Warn("read sample and remediation history; judging without them", "container", alert.Container, "error", err)
		}
	}
	if len(req.History) > 0 {
		a.Handoff.put(alert.Container, id, Read{History: req.History})
	}
	d, unreachable := a.judge(ctx, req)
	if unreachable && ctx.Err() == nil {
		if retries < a.PluginRetries {
			a.retryLater(ctx, env, alert, retries+1, d.FallbackReason, done)
			return
		}
		d.Reason += fmt.Sprintf("; still undecided after %d tries over %s", retries+1, time.Since(started).Round(time.Second))
	}
	if a.OnDecision != nil {
		a.OnDecision(alert.Container, d, time.Since(started))
	}
	a.publish(ctx, alert, d, id)
	done()
}

// retryLater judges the alert again after PluginRetryDelay, in its
// container's turn: an analyzer that crashed is being restarted, one that
// hung is being killed and restarted, and the alert must not become an
// escalation — a crashed container left down — for that alone.
func (a *Analyzer) retryLater(ctx context.Context, env protocol.Envelope, alert protocol.HealthAlert, retries int, why string, done func()) {
	a.Logger.Warn("no analyzer could judge the alert; judging it again", "container", alert.Container,
		"in", a.PluginRetryDelay, "try", retries+1, "of", a.PluginRetries+1, "why", why)
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		a.Logger.Error("alert abandoned at shutdown while its analyzer was unreachable", "container", alert.Container)
		return
	}
	if a.retries == nil {
		a.retries = map[*time.Timer]string{}
	}
	var t *time.Timer
	t = time.AfterFunc(a.PluginRetryDelay, func() {
		a.mu.Lock()
		delete(a.retries, t)
		a.mu.Unlock()
		if ctx.Err() != nil || !a.work.do(ctx, alert.Container, func() { a.handle(ctx, env, alert, retries, done) }) {
			a.Logger.Error("alert abandoned at shutdown while its analyzer was unreachable", "container", alert.Container)
		}
	})
	a.retries[t] = alert.Container
}

// unreachable says whether an analyzer's failure is its process's, not its
// judgement's: it crashed or is being restarted, or it did not answer
// within its deadline while the role's own context was alive.
func unreachable(ctx context.Context, err error) bool {
	return errors.Is(err, supervisor.ErrUnavailable) || (ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded))
}

// judge walks the chain: an analyzer that fails or abstains hands the alert
// to the next one. The decision says why the analyzers before it did not
// decide, and carries the first shadow judgement an analyzer recorded.
// When none decides, unreachable says whether one of them failed for
// being unreachable, so that the alert may be judged again.
func (a *Analyzer) judge(ctx context.Context, req sdk.AnalyzeRequest) (d sdk.Decision, unreachableSeen bool) {
	var fallbacks []string
	var shadow *sdk.Decision
	for _, link := range a.Chain {
		d, err := link.Analyzer.Analyze(ctx, req)
		if err != nil {
			unreachableSeen = unreachableSeen || unreachable(ctx, err)
			a.Logger.Warn("analyzer failed; trying the next", "analyzer", link.Name, "container", req.Alert.Container, "error", err)
			fallbacks = append(fallbacks, fmt.Sprintf("%s: %v", link.Name, err))
			continue
		}
		if err := validDecision(d); err != nil {
			a.Logger.Warn("analyzer returned an unusable decision; trying the next", "analyzer", link.Name, "error", err)
			fallbacks = append(fallbacks, fmt.Sprintf("%s: %v", link.Name, err))
			continue
		}
		if shadow == nil && d.Shadow != nil && validDecision(*d.Shadow) == nil {
			shadow = d.Shadow
			shadow.Analyzer = link.Name
		}
		if d.Verdict == sdk.VerdictAbstain {
			if d.Reason != "" && d.Shadow == nil {
				fallbacks = append(fallbacks, link.Name+": "+d.Reason)
			}
			continue
		}
		d.Analyzer = link.Name
		d.Shadow = shadow
		d.FallbackReason = strings.Join(fallbacks, "; ")
		return d, false
	}
	reason := "no analyzer reached a decision"
	if len(fallbacks) > 0 {
		reason += " (" + strings.Join(fallbacks, "; ") + ")"
	}
	return sdk.Decision{
		Verdict: sdk.VerdictEscalate, Reason: reason, Analyzer: "hemostatd",
		Shadow: shadow, FallbackReason: strings.Join(fallbacks, "; "),
	}, unreachableSeen
}

// ShadowAgrees reports whether a shadow judgement would have done what the
// decision does: the same verdict and, to remediate, the same action.
func ShadowAgrees(shadow, d sdk.Decision) bool {
	if shadow.Verdict != d.Verdict {
		return false
	}
	return d.Verdict != sdk.VerdictRemediate || shadow.Action == d.Action
}

func validDecision(d sdk.Decision) error {
	switch d.Verdict {
	case sdk.VerdictRemediate:
		if d.Action == "" {
			return fmt.Errorf("verdict remediate without an action")
		}
	case sdk.VerdictFalseAlarm, sdk.VerdictEscalate, sdk.VerdictAbstain:
	default:
		return fmt.Errorf("unknown verdict %q", d.Verdict)
	}
	if d.Confidence < 0 || d.Confidence > 1 {
		return fmt.Errorf("confidence %v outside [0, 1]", d.Confidence)
	}
	return nil
}

// requestID names the alert the decision answers: the responder acts at
// most once per request.
func (a *Analyzer) publish(ctx context.Context, alert protocol.HealthAlert, d sdk.Decision, requestID string) {
	var eventType string
	var data any
	judgement := protocol.Judgement{RootCause: d.RootCause, FallbackReason: d.FallbackReason}
	if d.Shadow != nil {
		judgement.Shadow = &protocol.ShadowJudgement{
			Analyzer: d.Shadow.Analyzer, Verdict: d.Shadow.Verdict, Action: d.Shadow.Action,
			Reason: d.Shadow.Reason, RootCause: d.Shadow.RootCause, Confidence: d.Shadow.Confidence,
			Agree: ShadowAgrees(*d.Shadow, d),
		}
	}
	switch d.Verdict {
	case sdk.VerdictRemediate:
		eventType = protocol.TypeRemediationNeeded
		data = protocol.RemediationNeeded{
			Container: alert.Container, Action: d.Action, Reason: d.Reason, Confidence: d.Confidence,
			Metrics: alert.Metrics, Analyzer: d.Analyzer, Issues: alert.Issues, Judgement: judgement,
			RequestID: requestID,
		}
	case sdk.VerdictFalseAlarm:
		eventType = protocol.TypeFalseAlarm
		data = protocol.FalseAlarm{
			Container: alert.Container, Reason: d.Reason, Analyzer: d.Analyzer, Confidence: d.Confidence, Judgement: judgement,
		}
	default:
		eventType = protocol.TypeEscalation
		data = protocol.Escalation{
			Container: alert.Container, Reason: d.Reason, Source: protocol.EscalatedByAnalyzer, Issues: alert.Issues,
			Analyzer: d.Analyzer, Severity: escalationSeverity(d.Severity), Judgement: judgement,
		}
	}
	a.pub.publish(ctx, eventType, data, alert.Container)
	a.Logger.Info("decision", "container", alert.Container, "verdict", d.Verdict, "action", d.Action,
		"confidence", d.Confidence, "analyzer", d.Analyzer, "reason", d.Reason, "root_cause", d.RootCause,
		"fallback_reason", d.FallbackReason)
}

// escalationSeverity is the severity an escalation is published with: an
// analyzer's warning stays a warning; anything else is left empty, which
// means critical, so that escalations look as they always did.
func escalationSeverity(s string) string {
	if s == sdk.SeverityWarning {
		return sdk.SeverityWarning
	}
	return ""
}
