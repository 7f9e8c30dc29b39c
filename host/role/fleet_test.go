package role

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hemostat/hemostat/host/bus"
	"github.com/hemostat/hemostat/host/gate"
	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/testenv"
	"github.com/hemostat/hemostat/sdk"
	"github.com/redis/go-redis/v9"
)

// fleetMember is one host's roles on a shared Redis, as one hemostatd of a
// fleet runs them.
type fleetMember struct {
	host      string
	bus       *bus.Bus
	monitor   *scriptedMonitor
	responder *recordingResponder
	notifier  *flakyNotifier
	decisions chan string // containers this member's analyzer judged
	mon       *Monitor
}

// startFleet runs the monitor, analyzer, responder and alert roles of each
// host on one Redis, with fleet naming on.
func startFleet(t *testing.T, rdb func() redis.UniversalClient, hosts []string, samples func(host string) []sdk.Sample) []*fleetMember {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	policy := gate.DefaultPolicy()
	policy.Actions = []string{"restart"}
	var members []*fleetMember
	for _, h := range hosts {
		m := &fleetMember{
			host: h, monitor: newScriptedMonitor(samples(h)),
			responder: &recordingResponder{calls: map[string]int{}},
			notifier:  &flakyNotifier{}, decisions: make(chan string, 100),
		}
		fleet := Fleet{Host: h, Enabled: true}
		log := hclog.NewNullLogger()
		m.bus = bus.New(rdb(), bus.Options{Logger: log, Host: h, Consumer: h})
		an := &Analyzer{Bus: m.bus, Logger: log, Fleet: fleet, Chain: []NamedAnalyzer{{"f", funcAnalyzer(func(req sdk.AnalyzeRequest) (sdk.Decision, error) {
			m.decisions <- req.Alert.Container
			return sdk.Decision{Verdict: sdk.VerdictRemediate, Action: "restart", Reason: "crashed", Confidence: 0.9}, nil
		})}}}
		an.Register(ctx)
		re := &Responder{Bus: m.bus, Gate: gate.New(policy, time.Now), Logger: log, Fleet: fleet, Detect: testThresholds(),
			Plugins: []NamedResponder{{"record", m.responder}}}
		re.Register(ctx)
		al := &Alert{Bus: m.bus, Logger: log, Fleet: fleet, DedupeWindow: time.Minute,
			Routes: []Route{{Name: "all", Notifier: m.notifier, MinSeverity: sdk.SeverityInfo}}}
		al.Register(ctx)
		mon := &Monitor{Bus: m.bus, Plugins: []sdk.Monitor{m.monitor}, Detect: testThresholds(), Logger: log, Fleet: fleet}
		for _, run := range []func(context.Context) error{m.bus.Run, re.Run} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				run(ctx)
			}()
		}
		t.Cleanup(func() {
			an.Close()
			re.Close()
			al.Close()
			m.bus.Close(context.Background())
		})
		m.mon = mon
		members = append(members, m)
	}
	// Every bus subscribed before any monitor speaks: 3 alert types, the
	// analyzer's and the responder's, per member.
	probe := rdb()
	deadline := time.Now().Add(20 * time.Second)
	for {
		counts, err := probe.PubSubNumSub(ctx, protocol.Channel(protocol.TypeHealthAlert), protocol.Channel(protocol.TypeRemediationNeeded), protocol.Channel(protocol.TypeRemediationComplete)).Result()
		if err == nil && !slices.ContainsFunc([]int64{counts[protocol.Channel(protocol.TypeHealthAlert)], counts[protocol.Channel(protocol.TypeRemediationNeeded)], counts[protocol.Channel(protocol.TypeRemediationComplete)]}, func(n int64) bool { return n < int64(len(hosts)) }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the fleet's buses never all subscribed: %v %v", counts, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, m := range members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.mon.Run(ctx)
		}()
	}
	return members
}

// TestFleetSameNamesNeverCollide: three hosts each run a container called
// web-1 that crashes with its own exit code. Each host's stats, history,
// remediation record and decision list stay its own; each alert is judged
// once, by its own host's analyzer; each responder restarts its own web-1
// once and no other; each incident is told once, by its own host.
func TestFleetSameNamesNeverCollide(t *testing.T) {
	srv := testenv.StartRedis(t)
	hosts := []string{"rack-1", "rack-2", "rack-3"}
	code := map[string]int{"rack-1": 11, "rack-2": 12, "rack-3": 13}
	members := startFleet(t, func() redis.UniversalClient { return srv.Client(t) }, hosts, func(h string) []sdk.Sample {
		return []sdk.Sample{
			{Container: "web-1", Status: "running", MemoryPct: float64(code[h]), StartedAt: time.Now().Add(-time.Hour)},
			{Container: "web-1", Status: "exited", Event: sdk.EventDie, ExitCode: code[h], MemoryPct: float64(code[h])},
		}
	})
	rdb := srv.Client(t)
	ctx := context.Background()
	for _, m := range members {
		want := m.host + "/web-1"
		waitUntil(t, want+" restarted", func() bool { return m.responder.count("web-1") >= 1 })
		waitUntil(t, want+" told", func() bool { return len(m.notifier.titles()) >= 1 })
		var st protocol.Stats
		raw, err := rdb.Get(ctx, protocol.StatsKey(want)).Bytes()
		if err != nil || json.Unmarshal(raw, &st) != nil || st.Name != want || st.MemoryPct != float64(code[m.host]) {
			t.Errorf("%s: stats = %s (%v), want its own name and memory %d", m.host, raw, err, code[m.host])
		}
		hist, err := rdb.LRange(ctx, protocol.HistoryKey(want), 0, -1).Result()
		if err != nil || len(hist) != 2 {
			t.Errorf("%s: history holds %d samples (%v), want its own 2", m.host, len(hist), err)
		}
		for _, raw := range hist {
			var s sdk.Sample
			if json.Unmarshal([]byte(raw), &s) != nil || s.Container != want || s.MemoryPct != float64(code[m.host]) {
				t.Errorf("%s: a sample of another host in its history: %s", m.host, raw)
			}
		}
		var rec protocol.RemediationRecord
		raw, err = rdb.Get(ctx, protocol.RemediationKey(want)).Bytes()
		if err != nil || json.Unmarshal(raw, &rec) != nil || rec.Count != 1 {
			t.Errorf("%s: remediation record = %s (%v), want one action", m.host, raw, err)
		}
		if n, err := rdb.LLen(ctx, protocol.DecisionsKey(want)).Result(); err != nil || n != 1 {
			t.Errorf("%s: decision list holds %d (%v), want 1", m.host, n, err)
		}
	}
	// Room for a second judgement, action or notification that must not come.
	time.Sleep(300 * time.Millisecond)
	for _, m := range members {
		want := m.host + "/web-1"
		if judged := drain(m.decisions); !slices.Equal(judged, []string{want}) {
			t.Errorf("%s's analyzer judged %v, want only %s", m.host, judged, want)
		}
		m.responder.mu.Lock()
		calls := fmt.Sprint(m.responder.calls)
		m.responder.mu.Unlock()
		if calls != "map[web-1:1]" {
			t.Errorf("%s's responder plugin was called %s, want its own web-1 once, by the engine's name", m.host, calls)
		}
		m.notifier.mu.Lock()
		got := slices.Clone(m.notifier.got)
		m.notifier.mu.Unlock()
		if len(got) != 1 || got[0].Container != want || got[0].Host != m.host {
			t.Errorf("%s told %d notifications (%+v), want one, of %s", m.host, len(got), got, want)
		}
	}
}

// TestFleetResponderRefusesOtherHosts: a remediation_needed naming another
// host's container, or in a fleet no host, is never acted on, and no
// responder answers it with anything but silence.
func TestFleetResponderRefusesOtherHosts(t *testing.T) {
	srv := testenv.StartRedis(t)
	members := startFleet(t, func() redis.UniversalClient { return srv.Client(t) }, []string{"rack-1", "rack-2"}, func(string) []sdk.Sample { return nil })
	rdb := srv.Client(t)
	sub := rdb.Subscribe(context.Background(), protocol.Channel(protocol.TypeRemediationComplete))
	defer sub.Close()
	if _, err := sub.Receive(context.Background()); err != nil {
		t.Fatal(err)
	}
	outsider := bus.New(srv.Client(t), bus.Options{Logger: hclog.NewNullLogger()})
	defer outsider.Close(context.Background())
	for _, c := range []string{"rack-9/web-1", "web-1", "/web-1"} {
		need := protocol.RemediationNeeded{Container: c, Action: "restart", Reason: "forged", Confidence: 1}
		if _, err := outsider.Publish(context.Background(), "Forger", protocol.TypeRemediationNeeded, need); err != nil {
			t.Fatal(err)
		}
	}
	// A request for rack-2's web-1 is acted on by rack-2 alone: the
	// refusals above were not lost in a queue.
	need := protocol.RemediationNeeded{Container: "rack-2/web-1", Action: "restart", Reason: "crashed", Confidence: 1}
	if _, err := outsider.Publish(context.Background(), "Analyzer", protocol.TypeRemediationNeeded, need); err != nil {
		t.Fatal(err)
	}
	select {
	case msg := <-sub.Channel():
		var env protocol.Envelope
		json.Unmarshal([]byte(msg.Payload), &env)
		if rc := decode[protocol.RemediationComplete](t, env); rc.Container != "rack-2/web-1" || hostOf(env) != "rack-2" {
			t.Fatalf("first remediation_complete = %s, want rack-2's own for rack-2/web-1", msg.Payload)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("rack-2 never acted on its own container")
	}
	select {
	case msg := <-sub.Channel():
		t.Fatalf("another remediation_complete: %s", msg.Payload)
	case <-time.After(300 * time.Millisecond):
	}
	if n := members[0].responder.count("web-1"); n != 0 {
		t.Errorf("rack-1 acted %d times on containers not its own", n)
	}
	if n := members[1].responder.count("web-1"); n != 1 {
		t.Errorf("rack-2 acted %d times on its web-1, want 1", n)
	}
}

// TestFleetHostlessAlertJudgedOnce: alerts from a monitor outside
// hemostatd, naming no host, are each judged by exactly one analyzer of
// the fleet, and an outside analyzer's false alarms told by exactly one
// daemon.
func TestFleetHostlessAlertJudgedOnce(t *testing.T) {
	srv := testenv.StartRedis(t)
	members := startFleet(t, func() redis.UniversalClient { return srv.Client(t) }, []string{"rack-1", "rack-2", "rack-3"}, func(string) []sdk.Sample { return nil })
	outsider := bus.New(srv.Client(t), bus.Options{Logger: hclog.NewNullLogger()})
	defer outsider.Close(context.Background())
	const alerts = 20
	for i := range alerts {
		a := protocol.HealthAlert{Container: fmt.Sprintf("ext-%d", i), Issues: []string{"Exited with code 1"}, Metrics: map[string]any{"status": "exited"}}
		if _, err := outsider.Publish(context.Background(), "Outside-Monitor", protocol.TypeHealthAlert, a); err != nil {
			t.Fatal(err)
		}
	}
	judged := map[string]int{}
	deadline := time.Now().Add(20 * time.Second)
	for len(judged) < alerts && time.Now().Before(deadline) {
		for _, m := range members {
			for _, c := range drain(m.decisions) {
				judged[c]++
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	for _, m := range members {
		for _, c := range drain(m.decisions) {
			judged[c]++
		}
	}
	for i := range alerts {
		if c := fmt.Sprintf("ext-%d", i); judged[c] != 1 {
			t.Errorf("%s judged %d times fleet-wide, want 1", c, judged[c])
		}
	}

	// An outside analyzer's false alarms, naming no host, are told once
	// each fleet-wide; one naming a host, by that host alone.
	for i := range alerts {
		fa := protocol.FalseAlarm{Container: fmt.Sprintf("ext-fa-%d", i), Reason: "spike"}
		if _, err := outsider.Publish(context.Background(), "Outside-Analyzer", protocol.TypeFalseAlarm, fa); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := outsider.Publish(context.Background(), "Outside-Analyzer", protocol.TypeFalseAlarm, protocol.FalseAlarm{Container: "rack-3/db", Reason: "spike"}); err != nil {
		t.Fatal(err)
	}
	told := func() map[string][]string {
		out := map[string][]string{}
		for _, m := range members {
			m.notifier.mu.Lock()
			for _, n := range m.notifier.got {
				out[n.Container] = append(out[n.Container], m.host)
			}
			m.notifier.mu.Unlock()
		}
		return out
	}
	waitUntil(t, "every false alarm told", func() bool { return len(told()) >= alerts+1 })
	time.Sleep(300 * time.Millisecond)
	got := told()
	for i := range alerts {
		if c := fmt.Sprintf("ext-fa-%d", i); len(got[c]) != 1 {
			t.Errorf("%s told by %v, want one daemon", c, got[c])
		}
	}
	if !slices.Equal(got["rack-3/db"], []string{"rack-3"}) {
		t.Errorf("rack-3/db told by %v, want rack-3 alone", got["rack-3/db"])
	}
}

func drain(ch chan string) []string {
	var out []string
	for {
		select {
		case c := <-ch:
			out = append(out, c)
		default:
			return out
		}
	}
}

func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
