package inspect

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hemostat/hemostat/host/config"
	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/testenv"
	"github.com/hemostat/hemostat/sdk"
)

// seed writes what a running hemostatd leaves in Redis.
func seed(t *testing.T, srv *testenv.RedisServer) {
	t.Helper()
	ctx := context.Background()
	c := srv.Client(t)
	now := time.Now().UTC()
	stats := func(name, status, health string) {
		raw, _ := json.Marshal(protocol.Stats{Metrics: protocol.Metrics{Name: name, Status: status, CPUPct: 12.5, MemoryPct: 40, Timestamp: now.Format(protocol.StatsTimestampFormat)}, Health: health})
		c.Set(ctx, protocol.StatsKey(name), raw, protocol.StatsTTL)
	}
	stats("web", "running", "healthy")
	stats("api", "exited", "")
	raw, _ := json.Marshal(sdk.Remediation{Time: now.Add(-time.Minute), Action: "restart", Status: "success"})
	c.RPush(ctx, protocol.DecisionsKey("api"), raw)
	c.Set(ctx, protocol.RemediationKey("api"), `{"last_action":"x","count":3}`, time.Hour)
	env := func(typ, container string, at time.Time, extra string) json.RawMessage {
		return json.RawMessage(`{"timestamp":"` + protocol.FormatTimestamp(at) + `","agent":"t","type":"` + typ + `","data":{"container":"` + container + `"` + extra + `}}`)
	}
	logs := map[string][]json.RawMessage{
		protocol.TypeHealthAlert: {
			env(protocol.TypeHealthAlert, "api", now.Add(-3*time.Second), `,"issues":["exited with code 1"]`),
			env(protocol.TypeHealthAlert, "web", now.Add(-1*time.Second), `,"issues":["High CPU: 92.5%"]`),
		},
		protocol.TypeRemediationNeeded: {
			env(protocol.TypeRemediationNeeded, "api", now.Add(-2*time.Second), `,"action":"restart","confidence":0.9,"reason":"crashed"`),
		},
		protocol.TypeForeignAction: {
			env(protocol.TypeForeignAction, "db", now.Add(-4*time.Second), `,"action":"restart","count":1,"message":"container db was restarted by another client"`),
		},
	}
	for typ, list := range logs {
		raw, _ := json.Marshal(list)
		c.Set(ctx, protocol.EventLogKey(typ), raw, protocol.EventLogTTL)
	}
}

func TestRecentFiltersAndOrders(t *testing.T) {
	srv := testenv.StartRedis(t)
	seed(t, srv)
	c := srv.Client(t)
	ctx := context.Background()
	for _, tc := range []struct {
		f     Filter
		limit int
		want  string
	}{
		{Filter{}, 0, "foreign_action/db health_alert/api remediation_needed/api health_alert/web"},
		{Filter{}, 2, "remediation_needed/api health_alert/web"},
		{Filter{Container: "api"}, 0, "health_alert/api remediation_needed/api"},
		{Filter{Type: protocol.TypeHealthAlert}, 0, "health_alert/api health_alert/web"},
		{Filter{Type: protocol.TypeEscalation}, 0, ""},
	} {
		got, err := Recent(ctx, c, tc.f, tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range got {
			names = append(names, e.Type+"/"+e.Container)
		}
		if s := strings.Join(names, " "); s != tc.want {
			t.Errorf("Recent(%+v, %d) = %q, want %q", tc.f, tc.limit, s, tc.want)
		}
	}
	if _, err := Recent(ctx, c, Filter{Type: "lunch"}, 0); err == nil || !strings.Contains(err.Error(), "unknown event type") {
		t.Errorf("an unknown type: %v", err)
	}
	got, _ := Recent(ctx, c, Filter{Type: protocol.TypeRemediationNeeded}, 0)
	if s := got[0].Summary(); s != "restart (confidence 0.90) · crashed" {
		t.Errorf("summary %q", s)
	}
	// Another healer's warning is read like the protocol's own events.
	got, _ = Recent(ctx, c, Filter{Type: protocol.TypeForeignAction}, 0)
	if len(got) != 1 || got[0].Summary() != "container db was restarted by another client" {
		t.Errorf("foreign_action events %+v", got)
	}
}

func TestFollowDeliversMatchingEnvelopes(t *testing.T) {
	srv := testenv.StartRedis(t)
	c := srv.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ready := make(chan struct{})
	got := make(chan Event, 4)
	done := make(chan error, 1)
	go func() {
		done <- Follow(ctx, c, Filter{Container: "api"}, func() { close(ready) }, func(e Event) { got <- e })
	}()
	<-ready
	pub := func(typ, container string) {
		raw := `{"timestamp":"` + protocol.FormatTimestamp(time.Now()) + `","agent":"t","type":"` + typ + `","data":{"container":"` + container + `"}}`
		if err := c.Publish(ctx, protocol.Channel(typ), raw).Err(); err != nil {
			t.Fatal(err)
		}
	}
	pub(protocol.TypeFalseAlarm, "web")
	pub(protocol.TypeEscalation, "api")
	select {
	case e := <-got:
		if e.Type != protocol.TypeEscalation || e.Container != "api" {
			t.Errorf("followed %s/%s, want escalation/api (web filtered out)", e.Type, e.Container)
		}
	case <-ctx.Done():
		t.Fatal("no envelope followed")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Follow: %v", err)
	}
}

func TestStatusHeartbeatsAndContainers(t *testing.T) {
	srv := testenv.StartRedis(t)
	seed(t, srv)
	c := srv.Client(t)
	ctx := context.Background()
	now := time.Now().UTC()
	hb := Heartbeat{ID: "box:42", Host: "box", PID: 42, Version: "v9", Started: now.Add(-time.Hour), Updated: now,
		HTTP: "127.0.0.1:9090", EmbeddedRedis: "127.0.0.1:7777",
		Plugins: []PluginBeat{{Role: "monitor", Name: "docker", State: "running", Restarts: 1}}}
	if err := WriteHeartbeat(ctx, c, hb); err != nil {
		t.Fatal(err)
	}
	if ttl := c.TTL(ctx, HeartbeatKey(hb.ID)).Val(); ttl <= 0 || ttl > HeartbeatTTL {
		t.Errorf("heartbeat TTL %s, want (0, %s]", ttl, HeartbeatTTL)
	}
	st, err := ReadStatus(ctx, c, Target{Addresses: []string{srv.Addr()}, Source: "-redis"})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	st.Write(&out, now)
	for _, want := range []string{
		srv.Addr() + " reachable (from -redis)",
		"box:42  version v9  up 1h0m0s  last beat 0s ago  http 127.0.0.1:9090  embedded redis 127.0.0.1:7777",
		"monitor/docker  running  restarts 1",
		"2 container(s)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status lacks %q:\n%s", want, out.String())
		}
	}
	lines := strings.Split(out.String(), "\n")
	var api, web string
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "api "):
			api = strings.Join(strings.Fields(l), " ")
		case strings.HasPrefix(l, "web "):
			web = strings.Join(strings.Fields(l), " ")
		}
	}
	// Stats timestamps have whole seconds, so "seen" reads 0s or 1s ago.
	if !regexp.MustCompile(`^api exited - 12\.5 40\.0 [01]s ago 3 restart success 1m0s ago$`).MatchString(api) {
		t.Errorf("api row %q", api)
	}
	if !regexp.MustCompile(`^web running healthy 12\.5 40\.0 [01]s ago 0 -$`).MatchString(web) {
		t.Errorf("web row %q", web)
	}
	if err := RemoveHeartbeat(ctx, c, hb.ID); err != nil {
		t.Fatal(err)
	}
	if hbs, err := Heartbeats(ctx, c); err != nil || len(hbs) != 0 {
		t.Errorf("after removal: %v %v", hbs, err)
	}
}

func TestResolve(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	if _, err := Resolve(cfg, ""); err == nil || !strings.Contains(err.Error(), cfg.RedisAddrFile()) || !strings.Contains(err.Error(), "-redis") {
		t.Errorf("no file: %v, want an error naming the file and -redis", err)
	}
	if err := os.WriteFile(filepath.Join(cfg.DataDir, "redis.addr"), []byte("127.0.0.1:5555\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := Resolve(cfg, ""); err != nil || got.Addresses[0] != "127.0.0.1:5555" || got.Source != cfg.RedisAddrFile() {
		t.Errorf("from the file: %+v %v", got, err)
	}
	if got, _ := Resolve(cfg, "10.0.0.1:6379"); got.Addresses[0] != "10.0.0.1:6379" || got.Source != "-redis" {
		t.Errorf("override: %+v", got)
	}
	cfg.Redis.Addresses = []string{"redis:6379"}
	if got, _ := Resolve(cfg, ""); got.Addresses[0] != "redis:6379" || got.Source != "config" {
		t.Errorf("config: %+v", got)
	}
}
