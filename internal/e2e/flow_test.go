package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/daemontest"
	"github.com/hemostat/hemostat/internal/testenv"
	"github.com/hemostat/hemostat/sdk"
	"github.com/redis/go-redis/v9"
)

// baseConfig runs every role with the test plugins, the example analyzer in
// front of the built-in threshold analyzer, and detection tuned to react at
// once.
const baseConfig = `
log_level  = "debug"
plugin_dir = "{{plugins}}"
redis { address = "{{redis}}" }
http  { address = "{{http}}" }
monitor {
  sustain = "0s"
  grace   = "0s"
  realert = "1s"
  plugin "script" {}
}
analyzer {
  plugin "maintenance" {
    config { prefix = "batch-" }
  }
  plugin "threshold" {}
}
responder {
  backoff {
    initial = "10s"
    max = "5m"
  }
  plugin "record" {
    config { fail = ["doomed"] }
  }
}
alert {
  dedupe_window = "0s"
  plugin "record" {}
}
`

var (
	envelopeTimestamp = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$`)
	statsTimestamp    = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$`)
	agentOf           = map[string]string{
		protocol.TypeHealthAlert:         protocol.AgentMonitor,
		protocol.TypeRemediationNeeded:   protocol.AgentAnalyzer,
		protocol.TypeFalseAlarm:          protocol.AgentAnalyzer,
		protocol.TypeRemediationComplete: protocol.AgentResponder,
	}
)

// checkEnvelope asserts every field the protocol documents, with its type.
func checkEnvelope(t *testing.T, m daemontest.Message, eventType string) {
	t.Helper()
	env := m.Env
	if env == nil {
		t.Fatalf("%s: not a JSON object: %s", eventType, m.Raw)
	}
	if ts, _ := env["timestamp"].(string); !envelopeTimestamp.MatchString(ts) {
		t.Errorf("%s: timestamp %q is not UTC with microseconds", eventType, env["timestamp"])
	}
	if env["agent"] != agentOf[eventType] {
		t.Errorf("%s: agent %q, want %q", eventType, env["agent"], agentOf[eventType])
	}
	if env["type"] != eventType {
		t.Errorf("type %q, want %q", env["type"], eventType)
	}
	d := m.Data()
	str := func(key string) {
		if s, ok := d[key].(string); !ok || s == "" {
			t.Errorf("%s: data.%s = %#v, want a non-empty string", eventType, key, d[key])
		}
	}
	num := func(obj map[string]any, key string) {
		if _, ok := obj[key].(float64); !ok {
			t.Errorf("%s: %s = %#v, want a number", eventType, key, obj[key])
		}
	}
	metrics := func() {
		mt, ok := d["metrics"].(map[string]any)
		if !ok {
			t.Errorf("%s: data.metrics = %#v, want an object", eventType, d["metrics"])
			return
		}
		if mt["name"] != d["container"] {
			t.Errorf("%s: metrics.name = %#v, want the container", eventType, mt["name"])
		}
		num(mt, "cpu_pct")
		num(mt, "memory_pct")
	}
	str("container")
	switch eventType {
	case protocol.TypeHealthAlert:
		issues, ok := d["issues"].([]any)
		if !ok || len(issues) == 0 {
			t.Errorf("health_alert: data.issues = %#v, want a non-empty array", d["issues"])
		}
		for _, is := range issues {
			if _, ok := is.(string); !ok {
				t.Errorf("health_alert: issue %#v is not a string", is)
			}
		}
		metrics()
		mt, _ := d["metrics"].(map[string]any)
		if ts, _ := mt["timestamp"].(string); !statsTimestamp.MatchString(ts) {
			t.Errorf("health_alert: metrics.timestamp = %#v", mt["timestamp"])
		}
		if _, ok := mt["status"].(string); !ok {
			t.Errorf("health_alert: metrics.status = %#v", mt["status"])
		}
	case protocol.TypeRemediationNeeded:
		str("action")
		str("reason")
		num(d, "confidence")
		metrics()
	case protocol.TypeRemediationComplete:
		str("action")
		r, ok := d["result"].(map[string]any)
		if !ok {
			t.Fatalf("remediation_complete: data.result = %#v", d["result"])
		}
		for _, key := range []string{"status", "action", "container"} {
			if s, ok := r[key].(string); !ok || s == "" {
				t.Errorf("remediation_complete: result.%s = %#v", key, r[key])
			}
		}
		if r["action"] != d["action"] || r["container"] != d["container"] {
			t.Errorf("remediation_complete: result %v does not match data %v", r, d)
		}
	case protocol.TypeFalseAlarm:
		str("reason")
	}
}

// checkEventLog asserts the envelope was appended to its type's event log,
// byte for byte, and that the log has its TTL.
func checkEventLog(t testing.TB, rdb *redis.Client, m daemontest.Message, eventType string) {
	t.Helper()
	ctx := context.Background()
	key := protocol.EventLogKey(eventType)
	deadline := time.Now().Add(5 * time.Second)
	for {
		raw, err := rdb.Get(ctx, key).Result()
		if err == nil {
			var log []json.RawMessage
			if err := json.Unmarshal([]byte(raw), &log); err != nil {
				t.Fatalf("%s is not a JSON array: %v", key, err)
			}
			for _, e := range log {
				if string(e) == m.Raw {
					ttl := rdb.TTL(ctx, key).Val()
					if ttl <= 0 || ttl > protocol.EventLogTTL {
						t.Errorf("%s TTL = %v, want (0, %v]", key, ttl, protocol.EventLogTTL)
					}
					return
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not hold the published envelope %s", key, m.Raw)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestFlowThroughRealPlugins(t *testing.T) {
	srv := testenv.StartRedis(t)
	d := startDaemon(t, srv, baseConfig)
	w := daemontest.Watch(t, d.rdb)

	script(t, d.rdb,
		sdk.Sample{Container: "api", Status: "running", CPUPct: 10, MemoryPct: 20},
		sdk.Sample{Container: "api", Status: "exited", Event: sdk.EventDie, ExitCode: 1, Labels: map[string]string{"app": "api"}},
	)
	alert := w.WaitFor(t, protocol.TypeHealthAlert, "api", nil, 20*time.Second)
	checkEnvelope(t, alert, protocol.TypeHealthAlert)
	if issues := alert.Data()["issues"].([]any); issues[0] != "Exited with code 1" {
		t.Errorf("issues = %v", issues)
	}
	need := w.WaitFor(t, protocol.TypeRemediationNeeded, "api", nil, 20*time.Second)
	checkEnvelope(t, need, protocol.TypeRemediationNeeded)
	if need.Data()["action"] != "restart" || need.Data()["confidence"] != 0.9 {
		t.Errorf("remediation_needed = %v, want restart at 0.9", need.Data())
	}
	done := w.WaitFor(t, protocol.TypeRemediationComplete, "api", nil, 20*time.Second)
	checkEnvelope(t, done, protocol.TypeRemediationComplete)
	if r := done.Data()["result"].(map[string]any); r["status"] != "success" {
		t.Errorf("result = %v, want success", r)
	}
	for typ, m := range map[string]daemontest.Message{
		protocol.TypeHealthAlert: alert, protocol.TypeRemediationNeeded: need, protocol.TypeRemediationComplete: done,
	} {
		checkEventLog(t, d.rdb, m, typ)
	}

	// The recording plugins saw the action and the notification.
	ctx := context.Background()
	var reqs []sdk.RemediateRequest
	readState(t, d.rdb, "e2e-remediations", &reqs)
	if len(reqs) != 1 || reqs[0].Container != "api" || reqs[0].Action != "restart" || reqs[0].Params["trigger"] != "lifecycle" || reqs[0].Params["stop_requested"] != "false" {
		t.Errorf("responder plugin saw %+v", reqs)
	}
	waitState(t, d.rdb, "e2e-notifications", func(raw []byte) bool {
		var ns []sdk.Notification
		json.Unmarshal(raw, &ns)
		for _, n := range ns {
			if n.Container == "api" && n.Type == protocol.TypeRemediationComplete && n.Severity == sdk.SeverityInfo {
				return true
			}
		}
		return false
	})

	// Keys: stats (TTL 300) and the remediation record (TTL 3600).
	var stats map[string]any
	if err := json.Unmarshal([]byte(d.rdb.Get(ctx, protocol.StatsKey("api")).Val()), &stats); err != nil {
		t.Fatalf("stats key: %v", err)
	}
	for _, k := range []string{"name", "status", "memory_pct", "cpu_pct", "timestamp"} {
		if _, ok := stats[k]; !ok {
			t.Errorf("stats key lacks %q: %v", k, stats)
		}
	}
	if ttl := d.rdb.TTL(ctx, protocol.StatsKey("api")).Val(); ttl <= 0 || ttl > protocol.StatsTTL {
		t.Errorf("stats TTL = %v", ttl)
	}
	var rec protocol.RemediationRecord
	if err := json.Unmarshal([]byte(d.rdb.Get(ctx, protocol.RemediationKey("api")).Val()), &rec); err != nil || rec.Count != 1 || !statsTimestamp.MatchString(rec.LastAction) {
		t.Errorf("remediation record = %+v (%v)", rec, err)
	}
	if ttl := d.rdb.TTL(ctx, protocol.RemediationKey("api")).Val(); ttl <= 0 || ttl > protocol.RemediationTTL {
		t.Errorf("remediation TTL = %v", ttl)
	}

	// The example plugin, dropped into the plugin directory, judges its
	// containers first: maintenance means a false alarm and no action.
	script(t, d.rdb, sdk.Sample{Container: "batch-nightly", Status: "exited", Event: sdk.EventDie, ExitCode: 2})
	fa := w.WaitFor(t, protocol.TypeFalseAlarm, "batch-nightly", nil, 20*time.Second)
	checkEnvelope(t, fa, protocol.TypeFalseAlarm)

	// A second crash inside the backoff is deferred, not dropped.
	script(t, d.rdb, sdk.Sample{Container: "api", Status: "exited", Event: sdk.EventDie, ExitCode: 1})
	deferred := w.WaitFor(t, protocol.TypeRemediationComplete, "api", daemontest.StatusIs("deferred"), 20*time.Second)
	if r := deferred.Data()["result"].(map[string]any); r["retry_at"] == nil || r["reason"] == "" {
		t.Errorf("deferred result lacks retry_at or reason: %v", r)
	}
	// A failing action is reported as failed.
	script(t, d.rdb, sdk.Sample{Container: "doomed", Status: "exited", Event: sdk.EventDie, ExitCode: 1})
	w.WaitFor(t, protocol.TypeRemediationComplete, "doomed", daemontest.StatusIs("failed"), 20*time.Second)
	if n := w.Count(protocol.TypeRemediationComplete, "batch-nightly"); n != 0 {
		t.Errorf("maintenance container got %d remediations", n)
	}
}

func readState(t *testing.T, rdb *redis.Client, key string, into any) {
	t.Helper()
	raw, err := rdb.Get(context.Background(), protocol.StateKey(key)).Bytes()
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	if err := json.Unmarshal(raw, into); err != nil {
		t.Fatal(err)
	}
}

func waitState(t *testing.T, rdb *redis.Client, key string, ok func([]byte) bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		raw, _ := rdb.Get(context.Background(), protocol.StateKey(key)).Bytes()
		if ok(raw) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("shared state %s never matched; last value: %s", key, raw)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// uniq makes container names unique per sub-scenario.
func uniq(prefix string) string { return fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano()%1e6) }
