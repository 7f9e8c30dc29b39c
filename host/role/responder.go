package role

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hemostat/hemostat/host/bus"
	"github.com/hemostat/hemostat/host/gate"
	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/sdk"
)

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
	// Detect tells the re-check of a deferred action whether the container
	// is still sick, with the same thresholds the monitor role uses.
	Detect Thresholds
	Logger hclog.Logger
	// OnResult is an optional observer, for metrics.
	OnResult func(container string, r protocol.Result)

	work   *serializer
	wakeup chan struct{}

	mu     sync.Mutex
	caps   map[string][]string                   // plugin name → actions
	parked map[string]protocol.RemediationNeeded // container → deferred request
}

// Register subscribes the role to its channel; call before the bus runs.
func (r *Responder) Register(ctx context.Context) {
	r.work = newSerializer(4)
	r.wakeup = make(chan struct{}, 1)
	r.caps = map[string][]string{}
	r.Bus.Subscribe(protocol.TypeRemediationNeeded, func(ctx context.Context, env protocol.Envelope) {
		var need protocol.RemediationNeeded
		if err := protocol.DecodeData(env, &need); err != nil {
			r.Bus.CountInvalid(env, err)
			return
		}
		r.work.do(ctx, need.Container, func() { r.handle(ctx, need, false) })
	})
}

// Run serves deferred actions until ctx ends: when a container's backoff
// expires, its parked request is re-checked and acted on if the container
// is still sick.
func (r *Responder) Run(ctx context.Context) error {
	for {
		wait := time.Hour
		if at, ok := r.Gate.NextDue(); ok {
			wait = max(time.Until(at), 0)
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			r.work.wait()
			return nil
		case <-r.wakeup:
			timer.Stop()
		case <-timer.C:
			for _, req := range r.Gate.Due() {
				need := protocol.RemediationNeeded{Container: req.Container, Action: req.Action, Confidence: req.Confidence}
				if parked, ok := r.parkedNeed(req.Container); ok {
					need = parked
				}
				r.work.do(ctx, req.Container, func() { r.handle(ctx, need, true) })
			}
		}
	}
}

func (r *Responder) handle(ctx context.Context, need protocol.RemediationNeeded, recheck bool) {
	labels := r.labels(ctx, need.Container)
	if recheck {
		if sick, why := r.stillSick(ctx, need); !sick {
			r.complete(ctx, need, protocol.Result{Status: sdk.StatusSkipped, Reason: "deferred action dropped on re-check: " + why})
			return
		}
	}
	req := gate.Request{Container: need.Container, Action: need.Action, Confidence: need.Confidence, Labels: labels}
	v := r.Gate.Check(req)
	switch v.Outcome {
	case gate.Reject:
		r.complete(ctx, need, protocol.Result{Status: sdk.StatusRejected, Reason: v.Reason})
		return
	case gate.Escalate:
		r.complete(ctx, need, protocol.Result{Status: sdk.StatusRejected, Reason: v.Reason})
		if v.FirstEscalation {
			esc := protocol.Escalation{Container: need.Container, Reason: v.Reason, Source: protocol.EscalatedByBreaker, Action: need.Action, Issues: need.Issues}
			if _, err := r.Bus.Publish(ctx, protocol.AgentResponder, protocol.TypeEscalation, esc); err != nil {
				r.Logger.Error("publish escalation", "container", need.Container, "error", err)
			}
		}
		return
	case gate.Defer:
		// Parked before the gate can hand the request back, so that the
		// retry always carries the full request.
		r.park(need)
		retryAt := r.Gate.Defer(req)
		r.complete(ctx, need, protocol.Result{Status: sdk.StatusDeferred, Reason: v.Reason, RetryAt: protocol.FormatTimestamp(retryAt)})
		select {
		case r.wakeup <- struct{}{}:
		default:
		}
		return
	}
	r.act(ctx, need, v.DryRun)
}

func (r *Responder) act(ctx context.Context, need protocol.RemediationNeeded, dryRun bool) {
	plugin, ok := r.pluginFor(ctx, need.Action)
	if !ok {
		r.complete(ctx, need, protocol.Result{Status: sdk.StatusRejected, Reason: fmt.Sprintf("no responder plugin offers the action %q", need.Action)})
		return
	}
	res, err := plugin.Responder.Remediate(ctx, sdk.RemediateRequest{
		Container: need.Container, Action: need.Action, Reason: need.Reason, Confidence: need.Confidence,
		DryRun: dryRun, Params: map[string]string{"trigger": trigger(need.Issues)},
	})
	// A call that failed (the plugin crashed, hung or is restarting)
	// never reached the container: it is reported, but it is not an
	// action, so it neither advances the backoff nor counts for the
	// breaker. The next alert tries again.
	acted := err == nil
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
	if acted && !dryRun && (res.Status == sdk.StatusSuccess || res.Status == sdk.StatusFailed) {
		r.Gate.Record(need.Container, need.Action, res.Status)
		rec := sdk.Remediation{Time: time.Now().UTC(), Action: need.Action, Status: res.Status, Reason: need.Reason}
		if _, err := r.Bus.RecordRemediation(ctx, need.Container, rec); err != nil {
			r.Logger.Error("record remediation", "container", need.Container, "error", err)
		}
	}
	if res.Status == sdk.StatusFailed {
		r.Logger.Error("remediation failed", "container", need.Container, "action", need.Action, "error", res.Error)
	}
	r.complete(ctx, need, out)
}

func (r *Responder) complete(ctx context.Context, need protocol.RemediationNeeded, res protocol.Result) {
	res.Action, res.Container = need.Action, need.Container
	data := protocol.RemediationComplete{Container: need.Container, Action: need.Action, Result: res}
	if _, err := r.Bus.Publish(ctx, protocol.AgentResponder, protocol.TypeRemediationComplete, data); err != nil {
		r.Logger.Error("publish remediation_complete", "container", need.Container, "error", err)
	}
	if r.OnResult != nil {
		r.OnResult(need.Container, res)
	}
	r.Logger.Info("remediation", "container", need.Container, "action", need.Action, "status", res.Status,
		"reason", res.Reason, "error", res.Error)
}

// pluginFor returns the first responder whose capabilities include action.
func (r *Responder) pluginFor(ctx context.Context, action string) (NamedResponder, bool) {
	for _, p := range r.Plugins {
		r.mu.Lock()
		caps, ok := r.caps[p.Name]
		r.mu.Unlock()
		if !ok {
			var err error
			if caps, err = p.Responder.Capabilities(ctx); err != nil {
				r.Logger.Warn("responder capabilities", "plugin", p.Name, "error", err)
				continue
			}
			r.mu.Lock()
			r.caps[p.Name] = caps
			r.mu.Unlock()
		}
		if slices.Contains(caps, action) {
			return p, true
		}
	}
	return NamedResponder{}, false
}

// labels reads the container's labels from its newest sample, for the
// gate's opt-in and opt-out checks; nil when unknown.
func (r *Responder) labels(ctx context.Context, container string) map[string]string {
	h, err := r.Bus.History(ctx, container, 1)
	if err != nil || len(h) == 0 {
		return nil
	}
	return h[len(h)-1].Labels
}

// stillSick re-checks a container whose action was deferred, from what the
// monitor last wrote to Redis.
func (r *Responder) stillSick(ctx context.Context, need protocol.RemediationNeeded) (bool, string) {
	h, err := r.Bus.History(ctx, need.Container, 1)
	if err != nil {
		return true, "history unreadable; acting on the original alert"
	}
	if len(h) == 0 {
		return true, "no samples; acting on the original alert"
	}
	s := h[len(h)-1]
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
	cpuLimit := labelFloat(s.Labels, LabelCPUPct, r.Detect.CPUPct)
	memLimit := labelFloat(s.Labels, LabelMemoryPct, r.Detect.MemoryPct)
	if trigger(need.Issues) == "resource" && (s.CPUPct > cpuLimit || s.MemoryPct > memLimit) {
		return true, ""
	}
	return false, fmt.Sprintf("the container is %s and within its thresholds (CPU %.1f%%, memory %.1f%%)", s.Status, s.CPUPct, s.MemoryPct)
}

// trigger tells the responder plugin whether an action answers a resource
// threshold (subject to its start-up grace) or a lifecycle event (acted on
// at once).
func trigger(issues []string) string {
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
