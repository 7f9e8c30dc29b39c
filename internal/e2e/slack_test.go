package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/fakeslack"
	"github.com/hemostat/hemostat/internal/testenv"
)

// slackConfig runs only the alert role, with the built-in Slack plugin in
// bot mode against the fake.
const slackConfig = `
plugin_dir = "{{plugins}}"
redis { address = "{{redis}}" }
http  { address = "{{http}}" }
monitor   { enabled = false }
analyzer  { enabled = false }
responder { enabled = false }
alert {
  dedupe_window = "0s"
  plugin "slack" {
    config {
      token   = "%s"
      channel = "#ops"
      api_url = "%s"
    }
  }
}
`

// TestSlackThreadSurvivesRestart: hemostatd posts an incident's first
// message, is stopped and started again on the same Redis, and the next
// notification of the incident replies in the same thread and updates its
// parent. The token is nowhere in Redis.
func TestSlackThreadSurvivesRestart(t *testing.T) {
	fs := fakeslack.New(t)
	srv := testenv.StartRedis(t)
	cfg := fmt.Sprintf(slackConfig, fakeslack.Token, fs.APIURL())
	publish := func(eventType string, data any) {
		t.Helper()
		env, err := protocol.NewEnvelope(protocol.AgentResponder, eventType, data, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(env)
		if err := srv.Client(t).Publish(context.Background(), protocol.Channel(eventType), raw).Err(); err != nil {
			t.Fatal(err)
		}
	}
	waitPosts := func(n int) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for len(fs.Calls("chat.postMessage")) < n {
			if time.Now().After(deadline) {
				t.Fatalf("%d messages posted, want %d", len(fs.Calls("chat.postMessage")), n)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	done := protocol.RemediationComplete{Container: "api", Action: "restart",
		Result: protocol.Result{Status: "success", Action: "restart", Container: "api", Reason: "exited with code 1"}}

	// healthz answers before the alert role has subscribed; a PUBLISH
	// before then reaches nobody, which is the protocol, not a bug.
	first := startDaemon(t, srv, cfg)
	first.waitSubscribed(t, protocol.TypeRemediationComplete)
	publish(protocol.TypeRemediationComplete, done)
	waitPosts(1)
	if err := first.Stop(); err != nil {
		t.Fatal(err)
	}

	startDaemon(t, srv, cfg).waitSubscribed(t, protocol.TypeEscalation)
	publish(protocol.TypeEscalation, protocol.Escalation{Container: "api", Reason: "circuit breaker open: 5 actions within 1h0m0s", Source: protocol.EscalatedByBreaker})
	waitPosts(2)

	posts := fs.Calls("chat.postMessage")
	if posts[0].Form.Get("thread_ts") != "" || posts[1].Form.Get("thread_ts") != posts[0].TS {
		t.Errorf("after the restart the escalation is not in the incident's thread: %q then %q (parent %s)",
			posts[0].Form.Get("thread_ts"), posts[1].Form.Get("thread_ts"), posts[0].TS)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(fs.Calls("chat.update")) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	updates := fs.Calls("chat.update")
	if len(updates) != 1 || !strings.Contains(updates[0].Form.Get("text"), "restarted 1× — escalated") {
		t.Errorf("parent updates: %v", updates)
	}
	keys, _ := srv.Client(t).Keys(context.Background(), "*").Result()
	for _, k := range keys {
		v, _ := srv.Client(t).Dump(context.Background(), k).Result()
		if strings.Contains(v, fakeslack.Token) {
			t.Errorf("the token is in Redis under %s", k)
		}
	}
}
