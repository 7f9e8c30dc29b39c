package inspect

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/testenv"
	"github.com/hemostat/hemostat/sdk"
)

// TestStatusNeedsAPerson: status lists, as the dashboard pins them, the
// containers escalated with no action since and not recovered; the
// table's LAST column says ESCALATED for them.
func TestStatusNeedsAPerson(t *testing.T) {
	srv := testenv.StartRedis(t)
	c := srv.Client(t)
	ctx := context.Background()
	now := time.Now().UTC()
	type container struct {
		name, status, health string
		actedAgo             time.Duration // 0: never acted on
		escalatedAgo         time.Duration // 0: never escalated
		alertedAgo           time.Duration // 0: no alert
		waits                bool
	}
	cases := []container{
		{name: "crashloop", status: "exited", actedAgo: 3 * time.Second, escalatedAgo: time.Second, alertedAgo: time.Second, waits: true},
		{name: "acted-since", status: "running", escalatedAgo: 5 * time.Minute, actedAgo: time.Minute},
		{name: "recovered", status: "running", health: "healthy", escalatedAgo: 3 * time.Minute, alertedAgo: 4 * time.Minute},
		{name: "sick-again", status: "running", escalatedAgo: 3 * time.Minute, alertedAgo: time.Minute, waits: true},
		{name: "unhealthy", status: "running", health: "unhealthy", escalatedAgo: 3 * time.Minute, waits: true},
		{name: "just-escalated", status: "running", escalatedAgo: 10 * time.Second, waits: true},
		{name: "never", status: "running"},
	}
	var escalations, alerts []json.RawMessage
	envelope := func(typ string, at time.Time, data any) json.RawMessage {
		env, err := protocol.NewEnvelope("t", typ, data, at)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(env)
		return raw
	}
	for _, ct := range cases {
		raw, _ := json.Marshal(protocol.Stats{Metrics: protocol.Metrics{Name: ct.name, Status: ct.status, Timestamp: now.Format(protocol.StatsTimestampFormat)}, Health: ct.health})
		c.Set(ctx, protocol.StatsKey(ct.name), raw, protocol.StatsTTL)
		if ct.actedAgo > 0 {
			raw, _ := json.Marshal(sdk.Remediation{Time: now.Add(-ct.actedAgo), Action: "restart", Status: "success"})
			c.RPush(ctx, protocol.DecisionsKey(ct.name), raw)
		}
		if ct.escalatedAgo > 0 {
			escalations = append(escalations, envelope(protocol.TypeEscalation, now.Add(-ct.escalatedAgo),
				protocol.Escalation{Container: ct.name, Source: protocol.EscalatedByBreaker, Reason: "circuit breaker open for " + ct.name}))
		}
		if ct.alertedAgo > 0 {
			alerts = append(alerts, envelope(protocol.TypeHealthAlert, now.Add(-ct.alertedAgo),
				protocol.HealthAlert{Container: ct.name, Issues: []string{"Exited with code 1"}}))
		}
	}
	for typ, list := range map[string][]json.RawMessage{protocol.TypeEscalation: escalations, protocol.TypeHealthAlert: alerts} {
		raw, _ := json.Marshal(list)
		c.Set(ctx, protocol.EventLogKey(typ), raw, protocol.EventLogTTL)
	}

	text := statusText(t, srv, now)
	_, waiting, _ := strings.Cut(text, "need a person")
	for _, ct := range cases {
		listed := strings.Contains(waiting, "  "+ct.name+"  by circuit_breaker") &&
			strings.Contains(waiting, "circuit breaker open for "+ct.name)
		var row string
		for _, l := range strings.Split(text, "\n") {
			if strings.HasPrefix(l, ct.name+" ") {
				row = l
			}
		}
		if listed != ct.waits || strings.Contains(row, "ESCALATED") != ct.waits {
			t.Errorf("%s: listed as waiting %v, row %q; want waiting %v", ct.name, listed, row, ct.waits)
		}
	}
	if want := "4 container(s) need a person"; !strings.Contains(text, want) {
		t.Errorf("status lacks %q:\n%s", want, text)
	}
}

// TestStatusAndEventsEscapeRedis: a container name or a reason written to
// Redis by anyone cannot break status's or events' lines, nor reach the
// terminal as an escape sequence.
func TestStatusAndEventsEscapeRedis(t *testing.T) {
	srv := testenv.StartRedis(t)
	c := srv.Client(t)
	ctx := context.Background()
	now := time.Now().UTC()
	hostile := "web\x1b[2J\nFORGED  running  healthy"
	raw, _ := json.Marshal(protocol.Stats{Metrics: protocol.Metrics{Name: hostile, Status: "exited\x1b]0;owned\x07", Timestamp: now.Format(protocol.StatsTimestampFormat)}})
	c.Set(ctx, protocol.StatsKey(hostile), raw, protocol.StatsTTL)
	env, err := protocol.NewEnvelope("t", protocol.TypeEscalation,
		protocol.Escalation{Container: hostile, Source: "analyzer", Reason: "leak\r\n2026 [ERROR] FORGED\x1b[31m"}, now)
	if err != nil {
		t.Fatal(err)
	}
	envRaw, _ := json.Marshal(env)
	list, _ := json.Marshal([]json.RawMessage{envRaw})
	c.Set(ctx, protocol.EventLogKey(protocol.TypeEscalation), list, protocol.EventLogTTL)

	text := statusText(t, srv, now)
	events, err := Recent(ctx, c, Filter{}, 0)
	if err != nil || len(events) != 1 {
		t.Fatalf("events %v, %v", events, err)
	}
	for what, text := range map[string]string{"status": text, "events": events[0].Line() + "\n"} {
		if strings.ContainsAny(text, "\x1b\x07\r") {
			t.Errorf("%s sends control characters to the terminal:\n%q", what, text)
		}
		for _, l := range strings.Split(text, "\n") {
			if strings.HasPrefix(l, "FORGED") || strings.HasPrefix(l, "2026 [ERROR]") {
				t.Errorf("%s has a line forged from Redis: %q", what, l)
			}
		}
		if !strings.Contains(text, `web\x1b[2J\nFORGED`) {
			t.Errorf("%s does not show the name escaped:\n%s", what, text)
		}
	}
}

// statusText is what `hemostatd status` prints of srv at now.
func statusText(t *testing.T, srv *testenv.RedisServer, now time.Time) string {
	t.Helper()
	st, err := ReadStatus(context.Background(), srv.Client(t), Target{Addresses: []string{srv.Addr()}, Source: "-redis"})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := st.Write(&out, now); err != nil {
		t.Fatal(err)
	}
	return out.String()
}
