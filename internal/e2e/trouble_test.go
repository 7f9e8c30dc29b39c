package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hemostat/hemostat/internal/fakeslack"
	"github.com/hemostat/hemostat/internal/testenv"
)

// troubleConfig runs the threshold analyzer and the built-in Slack plugin
// on a webhook, routed so narrowly that only news about hemostatd itself
// passes: trouble reaches every alert plugin whatever its routing.
const troubleConfig = `
plugin_dir = "{{plugins}}"
redis { address = "{{redis}}" }
http  { address = "{{http}}" }
monitor   { enabled = false }
analyzer {
  plugin "threshold" {}
}
responder { enabled = false }
alert {
  trouble {
    redis_grace   = "1s"
    plugin_stable = "%s"
    repeat        = "1h"
  }
  plugin "slack" {
    events       = ["escalation"]
    min_severity = "critical"
    containers   = ["nothing-here"]
    config { webhook_url = "%s" }
  }
}
`

// slackTexts are the top-level texts of the messages posted to the fake's
// webhook (the start-up probe has none).
func slackTexts(t *testing.T, fs *fakeslack.Server) []string {
	t.Helper()
	var out []string
	for _, c := range fs.Calls("webhook") {
		var m struct {
			Text string `json:"text"`
		}
		if err := json.Unmarshal(c.JSON, &m); err != nil {
			t.Fatal(err)
		}
		if m.Text != "" {
			out = append(out, m.Text)
		}
	}
	return out
}

// waitText waits until a posted message contains want and returns every
// text posted so far.
func waitText(t *testing.T, fs *fakeslack.Server, want string, within time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		texts := slackTexts(t, fs)
		for _, s := range texts {
			if strings.Contains(s, want) {
				return texts
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no message says %q within %s; posted:\n%s", want, within, strings.Join(texts, "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func count(texts []string, sub string) int {
	n := 0
	for _, s := range texts {
		if strings.Contains(s, sub) {
			n++
		}
	}
	return n
}

// TestRedisTroubleIsTold: redis-server is killed; past the grace the Slack
// channel hears it once, straight from hemostatd since Redis cannot carry
// it, and hears of the recovery when Redis is back.
func TestRedisTroubleIsTold(t *testing.T) {
	fs := fakeslack.New(t)
	srv := testenv.StartRedis(t)
	d := startDaemon(t, srv, fmt.Sprintf(troubleConfig, "1m", fs.WebhookURL()))

	srv.Stop(t)
	waitText(t, fs, "[critical] Redis unreachable", 30*time.Second)
	// Longer than the grace again: still one message, repeat is an hour.
	time.Sleep(3 * time.Second)
	srv.Restart(t)
	texts := waitText(t, fs, "[info] Redis reachable again", 60*time.Second)
	if n := count(texts, "Redis unreachable"); n != 1 {
		t.Errorf("%d messages of the outage, want 1:\n%s", n, strings.Join(texts, "\n"))
	}
	if n := len(texts); n != 2 {
		t.Errorf("%d messages, want the outage and its end:\n%s", n, strings.Join(texts, "\n"))
	}
	d.Alive(t)
}

// TestPluginTroubleIsTold: the analyzer plugin is SIGKILLed twice, the
// second time before it ran plugin_stable: the channel hears that it keeps
// failing, once, and that it works again once it ran plugin_stable.
func TestPluginTroubleIsTold(t *testing.T) {
	fs := fakeslack.New(t)
	srv := testenv.StartRedis(t)
	d := startDaemon(t, srv, fmt.Sprintf(troubleConfig, "8s", fs.WebhookURL()))

	kill := func() {
		t.Helper()
		p := findPlugin(t, d, "analyzer", "threshold")
		if err := syscall.Kill(p.PID, syscall.SIGKILL); err != nil {
			t.Fatalf("kill analyzer plugin %d: %v", p.PID, err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			q := findPlugin(t, d, "analyzer", "threshold")
			if q.State == "running" && q.PID != 0 && q.PID != p.PID {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the killed plugin was not restarted: %+v", q)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	kill()
	if texts := slackTexts(t, fs); len(texts) != 0 {
		t.Errorf("one crash, restarted at once, was told: %v", texts)
	}
	kill()
	waitText(t, fs, "[critical] analyzer plugin threshold keeps failing", 30*time.Second)
	texts := waitText(t, fs, "[info] analyzer plugin threshold works again", 60*time.Second)
	if len(texts) != 2 {
		t.Errorf("%d messages, want the trouble and its end:\n%s", len(texts), strings.Join(texts, "\n"))
	}
}
