package role

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hemostat/hemostat/host/bus"
	"github.com/hemostat/hemostat/host/gate"
	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/sdk"
)

// TestHandoff: a history is taken once, by the decision of the alert it
// was read for, and only while it is recent.
func TestHandoff(t *testing.T) {
	now := time.Unix(1000, 0)
	h := NewHandoff(DecisionMaxAge)
	h.now = func() time.Time { return now }
	hist := Read{History: []sdk.Sample{{Container: "web", Status: "running"}}}
	h.put("web", "req-1", hist)
	if _, ok := h.take("web", "req-2"); ok {
		t.Error("another request's decision took the history")
	}
	if _, ok := h.take("api", "req-1"); ok {
		t.Error("another container's decision took the history")
	}
	if got, ok := h.take("web", "req-1"); !ok || len(got.History) != 1 {
		t.Errorf("take = %v, %v; want the history", got, ok)
	}
	if _, ok := h.take("web", "req-1"); ok {
		t.Error("the history was taken twice")
	}
	h.put("web", "req-3", hist)
	now = now.Add(DecisionMaxAge + time.Millisecond)
	if _, ok := h.take("web", "req-3"); ok {
		t.Error("a history older than DecisionMaxAge was taken")
	}
	h.put("web", "req-4", hist)
	now = now.Add(DecisionMaxAge + time.Millisecond)
	h.put("api", "req-5", hist)
	if len(h.m) != 1 {
		t.Errorf("%d histories held, want the newest alone", len(h.m))
	}
	h.put("web", "", hist)

	// A read under way for the container is waited for: the alert can
	// come before the monitor has its round trip's reply.
	end := h.begin("db")
	took := make(chan bool)
	go func() {
		_, ok := h.take("db", "req-7")
		took <- ok
	}()
	time.Sleep(20 * time.Millisecond) // take is waiting
	h.put("db", "req-7", hist)
	end()
	if !<-took {
		t.Error("take did not wait for the read under way")
	}
	// A read that never ends is waited for only readingWait.
	h.begin("db")
	if _, ok := h.take("db", "req-8"); ok {
		t.Error("take found a read that was never put")
	}
	var none *Handoff
	none.put("web", "req-6", hist)
	if _, ok := none.take("web", "req-6"); ok {
		t.Error("a nil Handoff handed something over")
	}
}

// TestResponderTakesTheAnalyzersRead: the responder judges a request on
// the history this process's analyzer read for it, not on a second read
// of Redis; a request it was not read for, and the same request again,
// are judged on Redis.
func TestResponderTakesTheAnalyzersRead(t *testing.T) {
	plugin := &recordingResponder{calls: map[string]int{}}
	policy := gate.DefaultPolicy()
	policy.Actions = []string{"restart"}
	policy.Backoff = gate.Backoff{}
	h := NewHandoff(DecisionMaxAge)
	r := newRig(t, func(ctx context.Context, b *bus.Bus) {
		re := &Responder{Bus: b, Gate: gate.New(policy, time.Now), Logger: hclog.NewNullLogger(),
			Plugins: []NamedResponder{{"record", plugin}}, Handoff: h}
		re.Register(ctx)
	})
	// Redis holds a sample without labels; the analyzer's read, as far
	// as this test tells the responder, one that opts the container out.
	if err := r.bus.AppendSample(r.ctx, sdk.Sample{Container: "web", Status: "running", Time: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	h.put("web", "req-read", Read{History: []sdk.Sample{{Container: "web", Status: "running", Labels: map[string]string{sdk.LabelEnable: "false"}}}})
	need := func(id string) protocol.RemediationNeeded {
		return protocol.RemediationNeeded{Container: "web", Action: "restart", Confidence: 0.9, Issues: []string{"Health check failing"}, RequestID: id}
	}
	for i, id := range []string{"req-read", "req-other", "req-read"} {
		r.publish(t, protocol.AgentAnalyzer, protocol.TypeRemediationNeeded, need(id))
		r.waitFor(t, protocol.TypeRemediationComplete, "web", i+1)
	}
	var statuses []string
	for _, env := range r.waitFor(t, protocol.TypeRemediationComplete, "web", 3) {
		statuses = append(statuses, decode[protocol.RemediationComplete](t, env).Result.Status)
	}
	if want := []string{sdk.StatusRejected, sdk.StatusSuccess, sdk.StatusSuccess}; !equal(statuses, want) {
		t.Fatalf("statuses %v, want %v: the first judged on the handed-over labels, the others on Redis", statuses, want)
	}
}

// TestAnalyzerHandsItsReadToTheResponder: an analyzer and a responder
// sharing a Handoff, as hemostatd wires them, meet on the alert's request
// ID: the action on a decision takes the analyzer's read, and a false
// alarm's read is left for no one.
func TestAnalyzerHandsItsReadToTheResponder(t *testing.T) {
	plugin := &recordingResponder{calls: map[string]int{}}
	policy := gate.DefaultPolicy()
	policy.Actions = []string{"restart"}
	h := NewHandoff(DecisionMaxAge)
	var an *Analyzer
	r := newRig(t, func(ctx context.Context, b *bus.Bus) {
		an = &Analyzer{Bus: b, Logger: hclog.NewNullLogger(), Handoff: h, Chain: []NamedAnalyzer{{"rules", funcAnalyzer(func(req sdk.AnalyzeRequest) (sdk.Decision, error) {
			if req.Alert.Container == "quiet" {
				return sdk.Decision{Verdict: sdk.VerdictFalseAlarm, Reason: "transient", Confidence: 0.6}, nil
			}
			return sdk.Decision{Verdict: sdk.VerdictRemediate, Action: "restart", Reason: "unhealthy", Confidence: 0.9}, nil
		})}}}
		an.Register(ctx)
		re := &Responder{Bus: b, Gate: gate.New(policy, time.Now), Logger: hclog.NewNullLogger(),
			Plugins: []NamedResponder{{"record", plugin}}, Handoff: h}
		re.Register(ctx)
	})
	t.Cleanup(an.Close)
	for _, c := range []string{"web", "quiet"} {
		if err := r.bus.AppendSample(r.ctx, sdk.Sample{Container: c, Status: "running", Time: time.Now().UTC()}); err != nil {
			t.Fatal(err)
		}
		r.publish(t, protocol.AgentMonitor, protocol.TypeHealthAlert, protocol.HealthAlert{Container: c, Issues: []string{"Health check failing"}})
	}
	done := r.waitFor(t, protocol.TypeRemediationComplete, "web", 1)
	if s := decode[protocol.RemediationComplete](t, done[0]).Result.Status; s != sdk.StatusSuccess {
		t.Fatalf("status %s, want success", s)
	}
	r.waitFor(t, protocol.TypeFalseAlarm, "quiet", 1)
	h.mu.Lock()
	defer h.mu.Unlock()
	var left []string
	for k := range h.m {
		left = append(left, k.container)
	}
	if !equal(left, []string{"quiet"}) {
		t.Errorf("histories left in the Handoff for %q, want the false alarm's alone: the responder takes the analyzer's read", left)
	}
}

// TestAnalyzerJudgesOnTheMonitorsRead: a monitor and an analyzer sharing a
// Prefetch, as hemostatd wires them, make one read of the container's
// records per alert, in the round trip that publishes it: the analyzer
// judges on it — the alert's own sample newest, the remediations — and
// sends Redis no read of its own. An alert from elsewhere is read for.
func TestAnalyzerJudgesOnTheMonitorsRead(t *testing.T) {
	pre := NewHandoff(PrefetchMaxAge)
	judged := make(chan sdk.AnalyzeRequest, 4)
	var an *Analyzer
	r := newRig(t, func(ctx context.Context, b *bus.Bus) {
		an = &Analyzer{Bus: b, Logger: hclog.NewNullLogger(), Prefetch: pre, HistorySize: DefaultHistorySize,
			Chain: []NamedAnalyzer{{"rules", funcAnalyzer(func(req sdk.AnalyzeRequest) (sdk.Decision, error) {
				judged <- req
				return sdk.Decision{Verdict: sdk.VerdictFalseAlarm, Reason: "test", Confidence: 0.5}, nil
			})}}}
		an.Register(ctx)
	})
	t.Cleanup(an.Close)
	if _, err := r.bus.RecordAction(r.ctx, "api", sdk.Remediation{Action: "restart", Status: "success"}, nil, time.Hour); err != nil {
		t.Fatal(err)
	}
	// The reads of api's history, as Redis's MONITOR lists them: the
	// monitor's in its transaction, the analyzer's in a pipeline of its
	// own (the event log's script reads other keys).
	reads := watchHistoryReads(t, r, "api")

	started := time.Now().Add(-time.Hour)
	plugin := newScriptedMonitor([]sdk.Sample{
		{Container: "api", Status: "running", StartedAt: started},
		{Container: "api", Status: "exited", ExitCode: 3, StartedAt: started},
	})
	t.Cleanup(runMonitor(r, &Monitor{Bus: r.bus, Plugins: []sdk.Monitor{plugin}, Detect: testThresholds(), Logger: hclog.NewNullLogger(),
		Prefetch: pre, PrefetchHistory: DefaultHistorySize}))
	var req sdk.AnalyzeRequest
	select {
	case req = <-judged:
	case <-time.After(10 * time.Second):
		t.Fatal("the monitor's alert was not judged")
	}
	if n := len(req.History); n != 2 || req.History[n-1].Status != "exited" {
		t.Errorf("judged on history %+v, want both samples, the exit newest", req.History)
	}
	if len(req.Remediations) != 1 || req.Remediations[0].Action != "restart" {
		t.Errorf("judged on remediations %+v, want the restart", req.Remediations)
	}
	r.waitFor(t, protocol.TypeFalseAlarm, "api", 1)
	if n := reads(); n != 1 {
		t.Errorf("api's history read %d times for the alert, want once: by the monitor, not again by the analyzer", n)
	}

	r.publish(t, protocol.AgentMonitor, protocol.TypeHealthAlert, protocol.HealthAlert{Container: "api", Issues: []string{"Exited with code 4"}})
	select {
	case req = <-judged:
	case <-time.After(10 * time.Second):
		t.Fatal("the outside alert was not judged")
	}
	if len(req.History) != 2 || len(req.Remediations) != 1 {
		t.Errorf("outside alert judged on %d samples and %d remediations, want 2 and 1", len(req.History), len(req.Remediations))
	}
	r.waitFor(t, protocol.TypeFalseAlarm, "api", 2)
	if n := reads(); n != 1 {
		t.Errorf("api's history read %d times for the outside alert, want once, by the analyzer", n)
	}
}

// watchHistoryReads follows Redis's MONITOR and returns a function that
// reports how many times container's history was read since its last
// call, once it was read at least once.
func watchHistoryReads(t *testing.T, r *rig, container string) func() int {
	t.Helper()
	opts := r.rdb.Options()
	conn, err := net.Dial("tcp", opts.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if opts.Password != "" {
		fmt.Fprintf(conn, "AUTH %s\r\n", opts.Password)
	}
	fmt.Fprintf(conn, "MONITOR\r\n")
	lines := make(chan string, 1024)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(conn)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	// MONITOR is on once it lists a command sent after it.
	mark := fmt.Sprintf("monitor-on-%d", time.Now().UnixNano())
	want := fmt.Sprintf(`"lrange" %q`, protocol.HistoryKey(container))
	var mu sync.Mutex
	var onOnce sync.Once // the mark is sent again until it is listed
	on, n := make(chan struct{}), 0
	go func() {
		for l := range lines {
			switch {
			case strings.Contains(l, mark):
				onOnce.Do(func() { close(on) })
			case strings.Contains(l, want) && !strings.Contains(l, " lua]"):
				mu.Lock()
				n++
				mu.Unlock()
			}
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for done := false; !done; {
		r.rdb.Get(r.ctx, mark)
		select {
		case <-on:
			done = true
		case <-time.After(50 * time.Millisecond):
			if time.Now().After(deadline) {
				t.Fatal("Redis's MONITOR never started")
			}
		}
	}
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return n
	}
	return func() int {
		// What was sent is listed within a moment, later on a loaded
		// machine: wait for the first read, then a moment for another.
		for deadline := time.Now().Add(10 * time.Second); count() == 0 && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(100 * time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		got := n
		n = 0
		return got
	}
}
