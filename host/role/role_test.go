package role

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hemostat/hemostat/host/bus"
	"github.com/hemostat/hemostat/host/gate"
	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/host/supervisor"
	"github.com/hemostat/hemostat/internal/testenv"
	"github.com/hemostat/hemostat/sdk"
	"github.com/redis/go-redis/v9"
)

// rig is a bus on a real redis-server plus a raw subscriber that records
// every envelope, for driving one role runner at a time.
type rig struct {
	bus  *bus.Bus
	rdb  *redis.Client
	ctx  context.Context
	mu   sync.Mutex
	seen []protocol.Envelope
}

func newRig(t *testing.T, register func(ctx context.Context, b *bus.Bus)) *rig {
	t.Helper()
	srv := testenv.StartRedis(t)
	ctx, cancel := context.WithCancel(context.Background())
	r := &rig{rdb: srv.Client(t), ctx: ctx}
	r.bus = bus.New(srv.Client(t), bus.Options{Logger: hclog.NewNullLogger()})
	register(ctx, r.bus)

	ps := r.rdb.PSubscribe(ctx, protocol.Prefix+"*")
	if _, err := ps.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for m := range ps.Channel() {
			var env protocol.Envelope
			if json.Unmarshal([]byte(m.Payload), &env) == nil {
				r.mu.Lock()
				r.seen = append(r.seen, env)
				r.mu.Unlock()
			}
		}
	}()
	go func() {
		defer wg.Done()
		if err := r.bus.Run(ctx); err != nil {
			t.Errorf("bus: %v", err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		ps.Close()
		wg.Wait()
	})
	// Wait for the bus's own subscriptions.
	deadline := time.Now().Add(10 * time.Second)
	for r.rdb.PubSubNumPat(ctx).Val() < 1 || len(r.rdb.PubSubChannels(ctx, protocol.Prefix+"*").Val()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("bus never subscribed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return r
}

func (r *rig) publish(t *testing.T, agent, eventType string, data any) {
	t.Helper()
	if _, err := r.bus.Publish(r.ctx, agent, eventType, data); err != nil {
		t.Fatal(err)
	}
}

// waitFor returns the envelopes of eventType for container once there are
// n of them.
func (r *rig) waitFor(t *testing.T, eventType, container string, n int) []protocol.Envelope {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var got []protocol.Envelope
		r.mu.Lock()
		for _, env := range r.seen {
			var d struct {
				Container string `json:"container"`
			}
			if env.Type == eventType && json.Unmarshal(env.Data, &d) == nil && d.Container == container {
				got = append(got, env)
			}
		}
		r.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("saw %d %s for %s, want %d", len(got), eventType, container, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func decode[T any](t *testing.T, env protocol.Envelope) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(env.Data, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// funcAnalyzer adapts a function to sdk.Analyzer.
type funcAnalyzer func(sdk.AnalyzeRequest) (sdk.Decision, error)

func (funcAnalyzer) Configure(context.Context, json.RawMessage, sdk.Host) error { return nil }
func (f funcAnalyzer) Analyze(_ context.Context, req sdk.AnalyzeRequest) (sdk.Decision, error) {
	return f(req)
}

func TestAnalyzerChain(t *testing.T) {
	var gotReq sdk.AnalyzeRequest
	var mu sync.Mutex
	chain := []NamedAnalyzer{
		{"broken", funcAnalyzer(func(req sdk.AnalyzeRequest) (sdk.Decision, error) {
			if req.Alert.Container == "all-fail" {
				return sdk.Decision{}, errors.New("model unreachable")
			}
			return sdk.Decision{}, errors.New("model unreachable")
		})},
		{"shy", funcAnalyzer(func(req sdk.AnalyzeRequest) (sdk.Decision, error) {
			switch req.Alert.Container {
			case "bogus-verdict":
				return sdk.Decision{Verdict: "reboot-the-world"}, nil
			case "shadowed", "shadow-disagrees":
				action := "restart"
				if req.Alert.Container == "shadow-disagrees" {
					action = "stop"
				}
				return sdk.Decision{Verdict: sdk.VerdictAbstain, Reason: "shadow mode", Shadow: &sdk.Decision{
					Verdict: sdk.VerdictRemediate, Action: action, Reason: "heap grew to the limit", RootCause: "leak", Confidence: 0.8,
				}}, nil
			case "reply-not-used":
				return sdk.Decision{Verdict: sdk.VerdictAbstain, Reason: `reply not used: action "exec" is not allowed`}, nil
			}
			return sdk.Decision{Verdict: sdk.VerdictAbstain}, nil
		})},
		{"rules", funcAnalyzer(func(req sdk.AnalyzeRequest) (sdk.Decision, error) {
			mu.Lock()
			gotReq = req
			mu.Unlock()
			switch req.Alert.Container {
			case "all-fail":
				return sdk.Decision{}, errors.New("no rule")
			case "spiky":
				return sdk.Decision{Verdict: sdk.VerdictFalseAlarm, Reason: "Transient spike, back to normal", Confidence: 0.6}, nil
			}
			return sdk.Decision{Verdict: sdk.VerdictRemediate, Action: "restart", Reason: "crashed", Confidence: 0.9, RootCause: "exit 1"}, nil
		})},
	}
	var an *Analyzer
	r := newRig(t, func(ctx context.Context, b *bus.Bus) {
		an = &Analyzer{Bus: b, Chain: chain, Logger: hclog.NewNullLogger()}
		an.Register(ctx)
	})
	for i := range 3 {
		if err := r.bus.AppendSample(r.ctx, sdk.Sample{Container: "api", Status: "running", CPUPct: float64(10 * i), Time: time.Now().UTC()}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.bus.RecordRemediation(r.ctx, "api", sdk.Remediation{Time: time.Now().UTC(), Action: "restart", Status: "success"}); err != nil {
		t.Fatal(err)
	}
	alert := func(c string) protocol.HealthAlert {
		return protocol.HealthAlert{Container: c, Issues: []string{"Exited with code 1"}, Metrics: map[string]any{"name": c}}
	}

	r.publish(t, protocol.AgentMonitor, protocol.TypeHealthAlert, alert("api"))
	need := decode[protocol.RemediationNeeded](t, r.waitFor(t, protocol.TypeRemediationNeeded, "api", 1)[0])
	if need.Analyzer != "rules" || need.Action != "restart" || need.Confidence != 0.9 || need.Metrics["name"] != "api" {
		t.Errorf("remediation_needed = %+v: want the third analyzer's restart, after the first failed and the second abstained", need)
	}
	if need.RootCause != "exit 1" || need.FallbackReason != "broken: model unreachable" || need.Shadow != nil {
		t.Errorf("remediation_needed extension = %+v: want the root cause and why broken did not decide", need.Judgement)
	}
	mu.Lock()
	if len(gotReq.History) != 3 || len(gotReq.Remediations) != 1 || gotReq.Alert.Issues[0] != "Exited with code 1" {
		t.Errorf("analyzer got history %d, remediations %d, alert %+v", len(gotReq.History), len(gotReq.Remediations), gotReq.Alert)
	}
	mu.Unlock()

	r.publish(t, protocol.AgentMonitor, protocol.TypeHealthAlert, alert("spiky"))
	fa := decode[protocol.FalseAlarm](t, r.waitFor(t, protocol.TypeFalseAlarm, "spiky", 1)[0])
	if fa.Reason != "Transient spike, back to normal" || fa.Analyzer != "rules" {
		t.Errorf("false_alarm = %+v", fa)
	}

	// An unusable answer is skipped like an error.
	r.publish(t, protocol.AgentMonitor, protocol.TypeHealthAlert, alert("bogus-verdict"))
	r.waitFor(t, protocol.TypeRemediationNeeded, "bogus-verdict", 1)

	// A shadow judgement rides along with the decision, compared with it;
	// an abstention's reason says why that analyzer's answer was not used.
	for _, tc := range []struct {
		container string
		agree     bool
	}{{"shadowed", true}, {"shadow-disagrees", false}} {
		r.publish(t, protocol.AgentMonitor, protocol.TypeHealthAlert, alert(tc.container))
		got := decode[protocol.RemediationNeeded](t, r.waitFor(t, protocol.TypeRemediationNeeded, tc.container, 1)[0])
		want := &protocol.ShadowJudgement{Analyzer: "shy", Verdict: sdk.VerdictRemediate, Action: "restart",
			Reason: "heap grew to the limit", RootCause: "leak", Confidence: 0.8, Agree: tc.agree}
		if !tc.agree {
			want.Action = "stop"
		}
		if got.Analyzer != "rules" || got.Shadow == nil || *got.Shadow != *want || strings.Contains(got.FallbackReason, "shy") {
			t.Errorf("%s: remediation_needed = %+v, shadow %+v; want rules deciding with shadow %+v", tc.container, got, got.Shadow, want)
		}
	}
	r.publish(t, protocol.AgentMonitor, protocol.TypeHealthAlert, alert("reply-not-used"))
	notUsed := decode[protocol.RemediationNeeded](t, r.waitFor(t, protocol.TypeRemediationNeeded, "reply-not-used", 1)[0])
	if want := `broken: model unreachable; shy: reply not used: action "exec" is not allowed`; notUsed.FallbackReason != want {
		t.Errorf("fallback_reason = %q, want %q", notUsed.FallbackReason, want)
	}

	// When no analyzer decides, people are told: nothing is dropped.
	r.publish(t, protocol.AgentMonitor, protocol.TypeHealthAlert, alert("all-fail"))
	esc := decode[protocol.Escalation](t, r.waitFor(t, protocol.TypeEscalation, "all-fail", 1)[0])
	if esc.Source != protocol.EscalatedByAnalyzer || esc.Reason == "" || esc.Analyzer != "hemostatd" || esc.FallbackReason == "" {
		t.Errorf("escalation = %+v", esc)
	}
}

// recordingResponder answers success and counts calls per container.
type recordingResponder struct {
	mu    sync.Mutex
	calls map[string]int
	last  sdk.RemediateRequest
}

func (*recordingResponder) Configure(context.Context, json.RawMessage, sdk.Host) error { return nil }
func (*recordingResponder) Capabilities(context.Context) ([]string, error) {
	return []string{"restart"}, nil
}
func (r *recordingResponder) Remediate(_ context.Context, req sdk.RemediateRequest) (sdk.Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls[req.Container]++
	r.last = req
	switch {
	case req.Container == "plugin-down" && r.calls[req.Container] <= 2:
		return sdk.Result{}, fmt.Errorf("restarting: %w, %w", supervisor.ErrUnavailable, supervisor.ErrNotSent)
	case req.Container == "plugin-killed" && r.calls[req.Container] == 1:
		return sdk.Result{}, fmt.Errorf("killed mid-call: %w: %w", supervisor.ErrUnavailable, io.ErrUnexpectedEOF)
	case req.Container == "plugin-broken":
		return sdk.Result{}, errors.New("deadline exceeded")
	}
	if req.DryRun {
		return sdk.Result{Status: sdk.StatusDryRun}, nil
	}
	return sdk.Result{Status: sdk.StatusSuccess, Duration: 3 * time.Millisecond, StateAfter: "running"}, nil
}

func (r *recordingResponder) count(c string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[c]
}

func TestResponderGateDeferralAndRecheck(t *testing.T) {
	plugin := &recordingResponder{calls: map[string]int{}}
	policy := gate.DefaultPolicy()
	policy.Actions = []string{"restart"}
	policy.Protected = []string{"*redis*"}
	policy.Backoff = gate.Backoff{Initial: 1500 * time.Millisecond, Max: 3 * time.Second, ResetAfter: time.Minute}
	policy.Breaker = gate.Breaker{MaxActions: 3, Window: time.Hour}
	var re *Responder
	r := newRig(t, func(ctx context.Context, b *bus.Bus) {
		re = &Responder{
			Bus: b, Gate: gate.New(policy, time.Now), Logger: hclog.NewNullLogger(),
			Plugins: []NamedResponder{{"record", plugin}}, Detect: testThresholds(),
			PluginRetryDelay: 50 * time.Millisecond,
		}
		re.Register(ctx)
	})
	go re.Run(r.ctx)
	need := func(c string, conf float64) protocol.RemediationNeeded {
		return protocol.RemediationNeeded{Container: c, Action: "restart", Reason: "crashed", Confidence: conf, Issues: []string{"Exited with code 1"}, RequestID: "req-" + c}
	}
	exited := func(c string) {
		if err := r.bus.AppendSample(r.ctx, sdk.Sample{Container: c, Status: "exited", ExitCode: 1, Time: time.Now().UTC()}); err != nil {
			t.Fatal(err)
		}
	}
	status := func(env protocol.Envelope) string { return decode[protocol.RemediationComplete](t, env).Result.Status }

	// Acted on, then the second inside the backoff is deferred; the
	// container is still down when the backoff ends, so it is acted on.
	exited("api")
	r.publish(t, protocol.AgentAnalyzer, protocol.TypeRemediationNeeded, need("api", 0.9))
	r.waitFor(t, protocol.TypeRemediationComplete, "api", 1)
	r.publish(t, protocol.AgentAnalyzer, protocol.TypeRemediationNeeded, need("api", 0.9))
	got := r.waitFor(t, protocol.TypeRemediationComplete, "api", 3)
	if s := []string{status(got[0]), status(got[1]), status(got[2])}; s[0] != "success" || s[1] != "deferred" || s[2] != "success" {
		t.Errorf("statuses = %v, want success, deferred, success", s)
	}
	// Every result names the request it answers, deferred or not.
	for i, env := range got {
		if id := decode[protocol.RemediationComplete](t, env).RequestID; id != "req-api" {
			t.Errorf("result %d: request_id %q, want req-api", i, id)
		}
	}
	if d := decode[protocol.RemediationComplete](t, got[1]).Result; d.RetryAt == "" || d.Reason == "" {
		t.Errorf("deferred result = %+v, want retry_at and a reason", d)
	}
	if n := plugin.count("api"); n != 2 {
		t.Errorf("plugin acted %d times on api, want 2", n)
	}
	var rec protocol.RemediationRecord
	if err := json.Unmarshal([]byte(r.rdb.Get(r.ctx, protocol.RemediationKey("api")).Val()), &rec); err != nil || rec.Count != 2 {
		t.Errorf("remediation record = %+v, %v", rec, err)
	}

	// Deferred, but the container recovered meanwhile: skipped.
	exited("web")
	r.publish(t, protocol.AgentAnalyzer, protocol.TypeRemediationNeeded, need("web", 0.9))
	r.waitFor(t, protocol.TypeRemediationComplete, "web", 1)
	r.publish(t, protocol.AgentAnalyzer, protocol.TypeRemediationNeeded, need("web", 0.9))
	r.waitFor(t, protocol.TypeRemediationComplete, "web", 2)
	if err := r.bus.AppendSample(r.ctx, sdk.Sample{Container: "web", Status: "running", CPUPct: 5, Time: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	got = r.waitFor(t, protocol.TypeRemediationComplete, "web", 3)
	if s := status(got[2]); s != "skipped" {
		t.Errorf("re-check of a recovered container: status %s, want skipped", s)
	}
	if n := plugin.count("web"); n != 1 {
		t.Errorf("plugin acted %d times on web, want 1", n)
	}

	// A plugin that cannot be reached touched nothing: the request is
	// deferred and tried again until it works, and only that counts.
	exited("plugin-down")
	r.publish(t, protocol.AgentAnalyzer, protocol.TypeRemediationNeeded, need("plugin-down", 0.9))
	got = r.waitFor(t, protocol.TypeRemediationComplete, "plugin-down", 3)
	if s := []string{status(got[0]), status(got[1]), status(got[2])}; s[0] != "deferred" || s[1] != "deferred" || s[2] != "success" {
		t.Errorf("plugin-down statuses = %v, want deferred, deferred, success", s)
	}
	if res := decode[protocol.RemediationComplete](t, got[0]).Result; !strings.Contains(res.Reason, "unavailable") || res.RetryAt == "" {
		t.Errorf("plugin-down first result = %+v, want the plugin's unavailability and a retry time", res)
	}
	if n := plugin.count("plugin-down"); n != 3 {
		t.Errorf("plugin asked %d times for plugin-down, want 3", n)
	}
	// A plugin killed during the action may have begun it: the attempt
	// counts, and the retry waits out the backoff it set.
	exited("plugin-killed")
	r.publish(t, protocol.AgentAnalyzer, protocol.TypeRemediationNeeded, need("plugin-killed", 0.9))
	got = r.waitFor(t, protocol.TypeRemediationComplete, "plugin-killed", 3)
	if s := []string{status(got[0]), status(got[1]), status(got[2])}; s[0] != "deferred" || s[1] != "deferred" || s[2] != "success" {
		t.Errorf("plugin-killed statuses = %v, want deferred (unavailable), deferred (backoff), success", s)
	}
	if res := decode[protocol.RemediationComplete](t, got[1]).Result; !strings.Contains(res.Reason, "backoff") {
		t.Errorf("plugin-killed retry = %+v, want it deferred by the backoff", res)
	}
	if err := json.Unmarshal([]byte(r.rdb.Get(r.ctx, protocol.RemediationKey("plugin-killed")).Val()), &rec); err != nil || rec.Count != 2 {
		t.Errorf("plugin-killed remediation record = %+v, %v; want the killed attempt and the success counted", rec, err)
	}
	// Any other error came after the plugin was asked: it counts as a
	// failed action, so the next request waits out the backoff.
	exited("plugin-broken")
	r.publish(t, protocol.AgentAnalyzer, protocol.TypeRemediationNeeded, need("plugin-broken", 0.9))
	r.publish(t, protocol.AgentAnalyzer, protocol.TypeRemediationNeeded, need("plugin-broken", 0.9))
	got = r.waitFor(t, protocol.TypeRemediationComplete, "plugin-broken", 2)
	if s := []string{status(got[0]), status(got[1])}; s[0] != "failed" || s[1] != "deferred" {
		t.Errorf("plugin-broken statuses = %v, want failed, deferred", s)
	}

	// Refusals still report why.
	r.publish(t, protocol.AgentAnalyzer, protocol.TypeRemediationNeeded, need("cache-redis", 0.9))
	r.publish(t, protocol.AgentAnalyzer, protocol.TypeRemediationNeeded, need("unsure", 0.5))
	for _, c := range []string{"cache-redis", "unsure"} {
		res := decode[protocol.RemediationComplete](t, r.waitFor(t, protocol.TypeRemediationComplete, c, 1)[0]).Result
		if res.Status != "rejected" || res.Reason == "" {
			t.Errorf("%s: result %+v, want rejected with a reason", c, res)
		}
		if n := plugin.count(c); n != 0 {
			t.Errorf("%s: plugin acted %d times", c, n)
		}
	}
}

func TestResponderBreakerEscalatesOnce(t *testing.T) {
	plugin := &recordingResponder{calls: map[string]int{}}
	policy := gate.DefaultPolicy()
	policy.Actions = []string{"restart"}
	policy.Backoff = gate.Backoff{}
	policy.Breaker = gate.Breaker{MaxActions: 2, Window: time.Hour}
	r := newRig(t, func(ctx context.Context, b *bus.Bus) {
		re := &Responder{Bus: b, Gate: gate.New(policy, time.Now), Logger: hclog.NewNullLogger(), Plugins: []NamedResponder{{"record", plugin}}}
		re.Register(ctx)
	})
	for range 5 {
		r.publish(t, protocol.AgentAnalyzer, protocol.TypeRemediationNeeded,
			protocol.RemediationNeeded{Container: "loop", Action: "restart", Confidence: 0.9, Issues: []string{"Exited with code 1"}})
	}
	got := r.waitFor(t, protocol.TypeRemediationComplete, "loop", 5)
	var statuses []string
	for _, env := range got {
		statuses = append(statuses, decode[protocol.RemediationComplete](t, env).Result.Status)
	}
	want := []string{"success", "success", "rejected", "rejected", "rejected"}
	for i := range want {
		if statuses[i] != want[i] {
			t.Fatalf("statuses = %v, want %v", statuses, want)
		}
	}
	esc := r.waitFor(t, protocol.TypeEscalation, "loop", 1)
	time.Sleep(200 * time.Millisecond)
	if esc = r.waitFor(t, protocol.TypeEscalation, "loop", 1); len(esc) != 1 {
		t.Errorf("%d escalations, want exactly one", len(esc))
	}
	if e := decode[protocol.Escalation](t, esc[0]); e.Source != protocol.EscalatedByBreaker {
		t.Errorf("escalation = %+v", e)
	}
}

// flakyNotifier fails its first failures calls, then records.
type flakyNotifier struct {
	mu       sync.Mutex
	failures int
	got      []sdk.Notification
}

func (*flakyNotifier) Configure(context.Context, json.RawMessage, sdk.Host) error { return nil }
func (f *flakyNotifier) Notify(_ context.Context, n sdk.Notification) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failures > 0 {
		f.failures--
		return errors.New("429 rate limited")
	}
	f.got = append(f.got, n)
	return nil
}

// titles lists what was delivered, sorted.
func (f *flakyNotifier) titles() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, n := range f.got {
		out = append(out, n.Severity+" "+n.Title)
	}
	slices.Sort(out)
	return out
}

func TestAlertDedupeRoutingAndRetries(t *testing.T) {
	all := &flakyNotifier{failures: 2}
	pager := &flakyNotifier{}
	r := newRig(t, func(ctx context.Context, b *bus.Bus) {
		al := &Alert{
			Bus: b, DedupeWindow: time.Minute, Logger: hclog.NewNullLogger(), RetryInitial: 10 * time.Millisecond,
			Routes: []Route{
				{Name: "all", Notifier: all, MinSeverity: sdk.SeverityInfo},
				{Name: "pager", Notifier: pager, Events: []string{protocol.TypeRemediationComplete, protocol.TypeEscalation}, MinSeverity: sdk.SeverityCritical},
			},
		}
		al.Register(ctx)
	})
	done := func(status string) protocol.RemediationComplete {
		return protocol.RemediationComplete{Container: "api", Action: "restart", Result: protocol.Result{Status: status, Action: "restart", Container: "api"}}
	}
	r.publish(t, protocol.AgentResponder, protocol.TypeRemediationComplete, done("success"))
	r.publish(t, protocol.AgentResponder, protocol.TypeRemediationComplete, done("success")) // duplicate
	r.publish(t, protocol.AgentAnalyzer, protocol.TypeFalseAlarm, protocol.FalseAlarm{Container: "api", Reason: "spike"})
	r.publish(t, protocol.AgentResponder, protocol.TypeRemediationComplete, done("failed"))
	r.publish(t, protocol.AgentResponder, protocol.TypeEscalation, protocol.Escalation{Container: "api", Reason: "breaker open", Source: protocol.EscalatedByBreaker})

	deadline := time.Now().Add(10 * time.Second)
	for len(all.titles()) < 4 || len(pager.titles()) < 2 {
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	wantAll := []string{"info api: restart succeeded", "info False alarm on api", "critical api: restart FAILED", "critical api needs a person"}
	wantPager := []string{"critical api: restart FAILED", "critical api needs a person"}
	// Different channels are dispatched independently: compare as sets.
	slices.Sort(wantAll)
	slices.Sort(wantPager)
	if got := all.titles(); !equal(got, wantAll) {
		t.Errorf("route all got %q, want %q (after two failed deliveries, deduplicated)", got, wantAll)
	}
	if got := pager.titles(); !equal(got, wantPager) {
		t.Errorf("route pager got %q, want %q", got, wantPager)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestAlertGivenUpIsNotADuplicate: a notification nobody received is sent
// again when the same news comes back within the dedupe window.
func TestAlertGivenUpIsNotADuplicate(t *testing.T) {
	slack := &flakyNotifier{failures: 2}
	var al *Alert
	gaveUp := make(chan error, 1)
	r := newRig(t, func(ctx context.Context, b *bus.Bus) {
		al = &Alert{
			Bus: b, DedupeWindow: time.Hour, Logger: hclog.NewNullLogger(), Retries: 1, RetryInitial: 10 * time.Millisecond,
			Routes: []Route{{Name: "slack", Notifier: slack, MinSeverity: sdk.SeverityInfo}},
			OnNotify: func(_ string, _ sdk.Notification, err error) {
				select {
				case gaveUp <- err:
				default:
				}
			},
		}
		al.Register(ctx)
	})
	esc := protocol.Escalation{Container: "db", Reason: "breaker open", Source: protocol.EscalatedByBreaker}
	r.publish(t, protocol.AgentResponder, protocol.TypeEscalation, esc)
	deadline := time.Now().Add(10 * time.Second)
	// The give-up is accounted for (the group forgets the key) before
	// OnNotify is called.
	select {
	case err := <-gaveUp:
		if err == nil {
			t.Fatal("the first delivery succeeded; want it given up")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the first delivery was not given up")
	}
	r.publish(t, protocol.AgentResponder, protocol.TypeEscalation, esc)
	for len(slack.titles()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := slack.titles(); len(got) != 1 {
		t.Fatalf("delivered %q, want the escalation once, on its second publish", got)
	}
}
