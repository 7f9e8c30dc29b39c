package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hemostat/hemostat/sdk"
)

// Name is the analyzer's name in hemostatd's config and logs.
const Name = "llm"

// deadlineMargin is kept back from the host's deadline, so that the
// analyzer answers "the model did not answer in time" itself instead of
// the call failing under the host.
const deadlineMargin = 250 * time.Millisecond

// Analyzer asks a language model to judge an alert. It never returns an
// error: whatever goes wrong, it abstains with the reason, and the next
// analyzer in the chain decides.
type Analyzer struct {
	cur atomic.Pointer[configured]
	log hclog.Logger
	// now and httpClient are replaced by tests.
	now        func() time.Time
	httpClient *http.Client
}

// configured is one Configure's worth of state, swapped whole.
type configured struct {
	settings
	provider provider
	guard    *guard
	reuse    *reuseCache
	slots    chan struct{}
}

var _ sdk.Analyzer = (*Analyzer)(nil)

// New returns an analyzer that abstains until it is configured.
func New() *Analyzer {
	return &Analyzer{log: sdk.Logger(Name), now: time.Now, httpClient: newHTTPClient()}
}

// Configure checks the config block and builds the provider's client. The
// responder's allowlist, when the host sends it, narrows the actions. On
// error the previous settings stay in force.
func (a *Analyzer) Configure(ctx context.Context, raw json.RawMessage, _ sdk.Host) error {
	s, err := parseConfig(raw, sdk.ResponderActions(ctx))
	if err != nil {
		return err
	}
	c := &configured{
		settings: s, guard: newGuard(s), reuse: newReuseCache(time.Duration(s.ReuseWindow)),
		slots: make(chan struct{}, s.Concurrency),
	}
	switch s.Provider {
	case ProviderAnthropic:
		c.provider = newAnthropic(s, a.httpClient)
	default:
		c.provider = newOpenAI(s, a.httpClient)
	}
	a.cur.Store(c)
	a.log.Info("configured", "provider", s.Provider, "model", s.Model, "mode", s.Mode, "actions", s.allowed)
	return nil
}

// Analyze judges one alert.
func (a *Analyzer) Analyze(ctx context.Context, req sdk.AnalyzeRequest) (sdk.Decision, error) {
	c := a.cur.Load()
	if c == nil {
		return abstain("not configured"), nil
	}
	d, err := a.judge(ctx, c, req)
	if err != nil {
		// A call the guard refused was announced where it began (the
		// failure that opened the breaker, the 429, the budget's one
		// warning); repeating it for every alert would bury the log.
		var r *refusedError
		if errors.As(err, &r) {
			a.log.Debug("model not called", "container", req.Alert.Container, "reason", r.reason)
		} else {
			a.log.Warn("model's judgement not used", "container", req.Alert.Container, "error", err)
		}
		return abstain(err.Error()), nil
	}
	if c.Mode == ModeShadow {
		return sdk.Decision{Verdict: sdk.VerdictAbstain, Reason: "shadow mode", Shadow: &d}, nil
	}
	return d, nil
}

// refusedError is a call the guard did not let through.
type refusedError struct{ reason string }

func (e *refusedError) Error() string { return "model not called: " + e.reason }

func abstain(reason string) sdk.Decision {
	return sdk.Decision{Verdict: sdk.VerdictAbstain, Reason: reason}
}

// judge returns the model's validated decision, or why there is none.
func (a *Analyzer) judge(ctx context.Context, c *configured, req sdk.AnalyzeRequest) (sdk.Decision, error) {
	now := a.now()
	if d, at, ok := c.reuse.get(req.Alert, now); ok {
		a.log.Debug("identical alert: decision reused", "container", req.Alert.Container, "decided_at", at)
		return d, nil
	}
	if r := c.guard.admit(now); r != nil {
		if r.announce {
			a.log.Warn("budget spent: abstaining until it frees up", "reason", r.reason)
		}
		return sdk.Decision{}, &refusedError{reason: r.reason}
	}
	select {
	case c.slots <- struct{}{}:
		defer func() { <-c.slots }()
	case <-ctx.Done():
		c.guard.abandon()
		return sdk.Decision{}, fmt.Errorf("model not called: all %d call slots busy until the deadline", cap(c.slots))
	}
	callCtx, cancel := ownDeadline(ctx)
	defer cancel()
	pr, err := buildPrompt(req, c.allowed, c.LogLines, c.redactor, now)
	if err != nil {
		c.guard.abandon()
		return sdk.Decision{}, fmt.Errorf("build prompt: %w", err)
	}
	comp, err := c.provider.complete(callCtx, pr)
	var ce *callError
	if err != nil {
		ce, _ = err.(*callError)
		if ce == nil {
			ce = &callError{Kind: failReply, Err: err}
		}
	}
	c.guard.done(a.now(), comp.Tokens, ce)
	if ce != nil {
		return sdk.Decision{}, fmt.Errorf("model call failed: %w", ce)
	}
	rep, err := parseReply(comp.Text)
	if err != nil {
		return sdk.Decision{}, fmt.Errorf("reply not used: %w", err)
	}
	d, err := rep.validate(c.allowed)
	if err != nil {
		return sdk.Decision{}, fmt.Errorf("reply not used: %w", err)
	}
	if d.Verdict == sdk.VerdictFalseAlarm && isCrash(req.Alert) {
		// A rule restarts a crash; a model talked out of it by a log
		// line would leave the container down.
		return sdk.Decision{}, fmt.Errorf("reply not used: a crash is never a false alarm to this analyzer")
	}
	d.Reason = c.redactor.String(d.Reason)
	d.RootCause = c.redactor.String(d.RootCause)
	c.reuse.put(req.Alert, d, now)
	return d, nil
}

// ownDeadline ends the call a little before the host's deadline.
func ownDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	dl, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	margin := min(deadlineMargin, time.Until(dl)/10)
	return context.WithDeadline(ctx, dl.Add(-margin))
}

// isCrash says the alert is about a container that died or was killed,
// which the rules always act on.
func isCrash(a sdk.Alert) bool {
	s := a.Sample
	if s == nil {
		return false
	}
	return s.OOMKilled || (s.Event == sdk.EventDie && s.ExitCode != 0 && !s.StopRequested)
}
