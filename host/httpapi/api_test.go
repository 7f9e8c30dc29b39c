package httpapi

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hemostat/hemostat/host/bus"
	"github.com/hemostat/hemostat/host/feed"
	"github.com/hemostat/hemostat/host/gate"
	"github.com/hemostat/hemostat/host/overview"
	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/host/silence"
	"github.com/hemostat/hemostat/internal/testenv"
	"github.com/hemostat/hemostat/sdk"
	"github.com/prometheus/client_golang/prometheus"
)

// world is a server with every part of the API wired to a real Redis and
// a running bus, as the daemon wires it.
type world struct {
	url      string
	bus      *bus.Bus
	model    *overview.Model
	silences *silence.Store
	hub      *feed.Hub
}

func startWorld(t testing.TB, token string) *world {
	t.Helper()
	srv := testenv.StartRedis(t)
	client := srv.Client(t)
	reg := prometheus.NewRegistry()
	b := bus.New(client, bus.Options{Logger: hclog.NewNullLogger(), Registerer: reg})
	w := &world{bus: b, model: overview.New(overview.Options{Registerer: reg, Settle: -1}),
		silences: silence.NewStore(client, []string{"escalation", "false_alarm", "remediation_complete"}), hub: feed.NewHub(reg)}
	w.model.Subscribe(b)
	s, err := Listen(Options{
		Address: "127.0.0.1:0", Token: token, Logger: hclog.NewNullLogger(), Gatherer: reg, Bus: b,
		Gate: gate.New(gate.DefaultPolicy(), time.Now), Silences: w.silences, Version: "test",
		Overview: w.model, Hub: w.hub, Redis: client, Host: "h", RedisAddr: srv.Addr(), DryRun: func() bool { return true },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 3)
	go func() { s.Serve(ctx); done <- struct{}{} }()
	go func() { b.Run(ctx); done <- struct{}{} }()
	go func() { feed.Tap(ctx, client, w.hub); done <- struct{}{} }()
	t.Cleanup(func() {
		cancel()
		for range 3 {
			<-done
		}
		b.Close(context.Background())
	})
	waitFor(t, "the bus's subscriptions", func() bool {
		ch := protocol.Channel(protocol.TypeEscalation)
		return client.PubSubNumSub(context.Background(), ch).Val()[ch] > 0 && client.PubSubNumPat(context.Background()).Val() > 0
	})
	w.url = "http://" + s.Addr()
	return w
}

func waitFor(t testing.TB, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (w *world) publish(t testing.TB, eventType string, data any) {
	t.Helper()
	if _, err := w.bus.Publish(context.Background(), "api-test", eventType, data); err != nil {
		t.Fatal(err)
	}
}

func (w *world) container(t *testing.T, name string) overview.Container {
	t.Helper()
	_, body := get(t, w.url+"/api/v1/containers", "")
	var list ContainerList
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatalf("containers: %v: %s", err, body)
	}
	for _, c := range list.Containers {
		if c.Name == name {
			return c
		}
	}
	return overview.Container{}
}

func (w *world) waitState(t *testing.T, name, state string) overview.Container {
	t.Helper()
	var c overview.Container
	waitFor(t, name+" "+state, func() bool { c = w.container(t, name); return c.State == state })
	return c
}

// TestContainerStates publishes envelopes through the real bus and reads
// the state transitions back from /api/v1/containers: an alert is acted
// on, a success is healthy, an escalation stays pinned through a healthy
// sample taken before it and goes with one after, and a silence shows.
func TestContainerStates(t *testing.T) {
	w := startWorld(t, "")
	now := time.Now()
	w.model.Sample(sdk.Sample{Container: "web", Status: "running", Health: "healthy", Time: now, CPUPct: 3, MemoryPct: 40})
	if c := w.container(t, "web"); c.State != overview.StateHealthy || len(c.History) != 1 || c.Gate == nil {
		t.Fatalf("web at first: %+v", c)
	}
	w.publish(t, protocol.TypeHealthAlert, protocol.HealthAlert{Container: "web", Issues: []string{"exited"},
		Sample: &sdk.Sample{Container: "web", Status: "exited", Time: time.Now()}})
	c := w.waitState(t, "web", overview.StateActing)
	if c.LastAlert == nil || c.LastAlert.Issues[0] != "exited" || c.Status != "exited" {
		t.Errorf("acting web: %+v", c)
	}
	w.publish(t, protocol.TypeRemediationNeeded, protocol.RemediationNeeded{Container: "web", Action: "restart", Reason: "exited", Confidence: 0.9, Analyzer: "threshold"})
	w.publish(t, protocol.TypeRemediationComplete, protocol.RemediationComplete{Container: "web", Action: "restart",
		Result: protocol.Result{Status: "success", Action: "restart", Container: "web"}})
	w.model.Sample(sdk.Sample{Container: "web", Status: "running", Health: "healthy", Time: time.Now()})
	// Each event type reaches the model on its own goroutine: the
	// decision may land after the action that made web healthy.
	waitFor(t, "web healthy with its decision", func() bool {
		c = w.container(t, "web")
		return c.State == overview.StateHealthy && c.LastDecision != nil
	})
	if c.LastDecision == nil || c.LastDecision.Analyzer != "threshold" || c.LastAction == nil || c.LastAction.Result != "success" {
		t.Errorf("healed web: %+v", c)
	}

	w.publish(t, protocol.TypeEscalation, protocol.Escalation{Container: "db", Reason: "breaker open", Source: protocol.EscalatedByBreaker})
	w.waitState(t, "db", overview.StateEscalated)
	w.model.Sample(sdk.Sample{Container: "db", Status: "running", Time: time.Now().Add(-time.Hour)}) // older than the escalation
	if c := w.container(t, "db"); c.State != overview.StateEscalated || c.Escalation == nil {
		t.Fatalf("db after an old sample: %+v", c)
	}
	_, body := get(t, w.url+"/api/v1/containers", "")
	var list ContainerList
	json.Unmarshal([]byte(body), &list)
	if list.Containers[0].Name != "db" {
		t.Errorf("the escalated container is not first: %s", body)
	}
	w.model.Sample(sdk.Sample{Container: "db", Status: "exited", Time: time.Now()})
	w.model.Sample(sdk.Sample{Container: "db", Status: "running", Time: time.Now()})
	if c := w.container(t, "db"); c.Escalation != nil || c.State != overview.StateHealthy {
		t.Fatalf("db healthy again: %+v", c)
	}

	if _, err := w.silences.Add(context.Background(), silence.Silence{Container: "web*", Ends: time.Now().Add(time.Hour), CreatedBy: "test"}); err != nil {
		t.Fatal(err)
	}
	if c := w.container(t, "web"); c.State != overview.StateSilenced || c.Silence == "" {
		t.Errorf("silenced web: %+v", c)
	}
}

// TestAPIEndpoints is a table of the API's answers on a small history.
func TestAPIEndpoints(t *testing.T) {
	w := startWorld(t, "")
	w.publish(t, protocol.TypeFalseAlarm, protocol.FalseAlarm{Container: "a", Reason: "blip", Analyzer: "threshold"})
	w.publish(t, protocol.TypeRemediationComplete, protocol.RemediationComplete{Container: "b", Action: "restart",
		Result: protocol.Result{Status: "failed", Action: "restart", Container: "b", Error: "engine said no"}})
	waitFor(t, "the event logs", func() bool {
		_, body := get(t, w.url+"/api/v1/events", "")
		return strings.Count(body, `"type"`) == 2
	})
	for _, tc := range []struct {
		path, want string
		code       int
	}{
		{"/api/v1/summary", `"remediations":1,"succeeded":0`, 200},
		{"/api/v1/summary", `"dry_run":true`, 200},
		{"/api/v1/summary", `"false_alarms":1`, 200},
		{"/api/v1/events?type=false_alarm", `"container":"a"`, 200},
		{"/api/v1/events?container=b", `"engine said no"`, 200},
		{"/api/v1/events?container=zzz", `{"events":[]}`, 200},
		{"/api/v1/events?since=2999-01-01T00:00:00Z", `{"events":[]}`, 200},
		{"/api/v1/events?since=yesterday", `since`, 400},
		{"/api/v1/events?limit=0", `limit`, 400},
		{"/api/v1/events?limit=1001", `limit`, 400},
		{"/api/v1/events?type=a%0Ab", `type`, 400},
		{"/api/v1/remediations", `"message":"engine said no"`, 200},
		{"/api/v1/remediations?container=a", `{"remediations":[]}`, 200},
		{"/api/v1/plugins", `{"plugins":[]}`, 200},
		{"/api/v1/silences", `{"silences":[]}`, 200},
		{"/readyz", "ready", 200},
		{"/metrics", "hemostat_remediate_seconds_count 0", 200},
		{"/metrics", `hemostat_escalations_total{source="circuit_breaker"} 0`, 200},
	} {
		code, body := get(t, w.url+tc.path, "")
		if code != tc.code || !strings.Contains(body, tc.want) {
			t.Errorf("GET %s = %d %s, want %d with %q", tc.path, code, body, tc.code, tc.want)
		}
	}
}

// TestAuth: off the loopback default, every API request needs the token
// as a bearer header or the login cookie; a wrong one is refused; a page
// request is sent to the login form; the probes and the form need none.
func TestAuth(t *testing.T) {
	w := startWorld(t, "open-sesame")
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.PostForm(w.url+"/login", url.Values{"token": {"nope"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(resp.Cookies()) != 0 || resp.Header.Get("Location") != "/login?failed=1" {
		t.Errorf("a wrong login: %s %v, want no cookie and back to the form", resp.Status, resp.Cookies())
	}
	resp, err = noRedirect.PostForm(w.url+"/login", url.Values{"token": {"open-sesame"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == SessionCookie {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || strings.Contains(cookie.Value, "open-sesame") {
		t.Fatalf("login cookie %+v, want HttpOnly, SameSite=Strict, not the token", cookie)
	}
	for _, tc := range []struct {
		path, bearer, cookie, accept string
		want                         int
	}{
		{"/api/v1/containers", "", "", "", 401},
		{"/api/v1/containers", "wrong", "", "", 401},
		{"/api/v1/containers", "open-sesame", "", "", 200},
		{"/api/v1/containers", "", cookie.Value, "", 200},
		{"/api/v1/containers", "", cookie.Value + "x", "", 401},
		{"/api/v1/stream", "", "", "", 401},
		{"/api/v1/events", "", "forged", "", 401},
		{"/metrics", "", "", "", 401},
		{"/", "", "", "text/html", 303},
		{"/healthz", "", "", "", 200},
		{"/readyz", "", "", "", 200},
	} {
		req, _ := http.NewRequest(http.MethodGet, w.url+tc.path, nil)
		if tc.bearer != "" {
			req.Header.Set("Authorization", "Bearer "+tc.bearer)
		}
		if tc.cookie != "" {
			req.AddCookie(&http.Cookie{Name: SessionCookie, Value: tc.cookie})
		}
		if tc.accept != "" {
			req.Header.Set("Accept", tc.accept)
		}
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("GET %s bearer=%q cookie=%t = %d, want %d", tc.path, tc.bearer, tc.cookie != "", resp.StatusCode, tc.want)
		}
	}
}

// TestStream: a client that reads gets every envelope of every type, a
// foreign one included; one that does not is cut, and the bus goes on.
func TestStream(t *testing.T) {
	w := startWorld(t, "")
	resp, err := http.Get(w.url + "/api/v1/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	slow := w.hub.Join(4) // never read: cut at the fifth message
	waitFor(t, "the stream client", func() bool { return w.hub.Clients() == 2 })
	const n = 50
	for i := range n {
		w.publish(t, protocol.TypeFalseAlarm, protocol.FalseAlarm{Container: "c", Reason: strings.Repeat("x", i)})
	}
	w.publish(t, "deploy_note", map[string]string{"container": "c", "note": "v2 out"})
	sc := bufio.NewScanner(resp.Body)
	got, foreign := 0, false
	for got < n || !foreign {
		if !sc.Scan() {
			t.Fatalf("stream ended after %d events: %v", got, sc.Err())
		}
		switch line := sc.Text(); {
		case line == "event: false_alarm":
			got++
		case line == "event: deploy_note":
			foreign = true
		case strings.HasPrefix(line, "data: ") && !json.Valid([]byte(line[len("data: "):])):
			t.Fatalf("data line is not one JSON envelope: %q", line)
		}
	}
	select {
	case <-slow.Cut():
	default:
		t.Error("the client that never read was not cut")
	}
}
