package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hemostat/hemostat/host/httpapi"
	"github.com/hemostat/hemostat/host/overview"
	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/fakeslack"
	"github.com/hemostat/hemostat/internal/testenv"
	"github.com/hemostat/hemostat/sdk"
)

// foreignSlackConfig runs the alert role with a one-minute grouping
// window and the built-in Slack plugin against the fake.
const foreignSlackConfig = `
plugin_dir = "{{plugins}}"
redis { address = "{{redis}}" }
http  { address = "{{http}}" }
monitor   { enabled = false }
analyzer  { enabled = false }
responder { enabled = false }
alert {
  dedupe_window = "1m"
  plugin "slack" {
    config {
      token   = "%s"
      channel = "#ops"
      api_url = "%s"
    }
  }
}
`

// TestForeignActionToldToPeople: a responder's foreign_action — another
// healer acting on the engine — reaches Slack as a warning naming the
// container and what to do, once per container per grouping window (the
// second one for the same container is counted, not posted), and the
// containers API and the summary show it.
func TestForeignActionToldToPeople(t *testing.T) {
	fs := fakeslack.New(t)
	srv := testenv.StartRedis(t)
	d := startDaemon(t, srv, fmt.Sprintf(foreignSlackConfig, fakeslack.Token, fs.APIURL()))
	d.waitSubscribed(t, protocol.TypeForeignAction)
	publish := func(fa sdk.ForeignAction) {
		t.Helper()
		env, err := protocol.NewEnvelope(protocol.AgentResponder, protocol.TypeForeignAction, fa, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(env)
		if err := d.rdb.Publish(context.Background(), protocol.Channel(protocol.TypeForeignAction), raw).Err(); err != nil {
			t.Fatal(err)
		}
	}
	waitPosts := func(n int) []fakeslack.Call {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for len(fs.Calls("chat.postMessage")) < n {
			if time.Now().After(deadline) {
				t.Fatalf("%d messages posted, want %d", len(fs.Calls("chat.postMessage")), n)
			}
			time.Sleep(20 * time.Millisecond)
		}
		return fs.Calls("chat.postMessage")
	}
	msg := "container api was restarted by another client 0.02 s after our restart; another healer may be acting on this engine — remove it, or label the container hemostat.enable=false to leave it to the other"
	at := time.Now().UTC().Add(-time.Second).Truncate(time.Millisecond)
	publish(sdk.ForeignAction{Container: "api", ContainerID: "0123456789ab", Action: "restart", Count: 1, Ours: "restart", OffsetSeconds: 0.02, At: at, Message: msg})
	posts := waitPosts(1)
	text := posts[0].Form.Get("text") + string(posts[0].JSON) + posts[0].Form.Get("attachments") + posts[0].Form.Get("blocks")
	for _, want := range []string{"api", "another healer is acting on this engine", "hemostat.enable=false"} {
		if !strings.Contains(text, want) {
			t.Errorf("the Slack message lacks %q:\n%s", want, text)
		}
	}
	// The same container again inside the window is grouped; another
	// container is told at once.
	publish(sdk.ForeignAction{Container: "api", Action: "kill", Count: 2, Ours: "restart", At: at.Add(time.Second), Message: "again"})
	publish(sdk.ForeignAction{Container: "db", Action: "stop", Count: 1, Ours: "restart", At: at, Message: "container db was stopped by another client"})
	posts = waitPosts(2)
	if !strings.Contains(posts[1].Form.Get("text")+posts[1].Form.Get("attachments")+posts[1].Form.Get("blocks")+string(posts[1].JSON), "db") {
		t.Errorf("the second message is not db's: %+v", posts[1])
	}
	waitMetric(t, d, `hemostat_alert_notifications_total{outcome="grouped",plugin="slack"} 1`)
	if n := len(fs.Calls("chat.postMessage")); n != 2 {
		t.Errorf("%d messages posted, want 2: the second foreign_action of api is in the window", n)
	}

	// The containers API: the last foreign action of each container.
	var list httpapi.ContainerList
	getJSON(t, "http://"+d.HTTPAddr()+"/api/v1/containers", &list)
	byName := map[string]overview.Container{}
	for _, c := range list.Containers {
		byName[c.Name] = c
	}
	api := byName["api"].ForeignAction
	if api == nil || api.Action != "kill" || api.Count != 2 || !api.At.Equal(at.Add(time.Second)) {
		t.Errorf("api's foreign_action in the containers API: %+v", api)
	}
	if db := byName["db"].ForeignAction; db == nil || db.Action != "stop" || !strings.Contains(db.Message, "stopped by another client") {
		t.Errorf("db's foreign_action in the containers API: %+v", db)
	}
	var sum httpapi.Summary
	getJSON(t, "http://"+d.HTTPAddr()+"/api/v1/summary", &sum)
	if sum.Totals.ForeignActions != 4 {
		t.Errorf("summary's foreign_actions = %d, want 4 (1 + 2 + 1 operations)", sum.Totals.ForeignActions)
	}
}

// waitMetric waits until hemostatd's /metrics has the line.
func waitMetric(t *testing.T, d *daemon, line string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		m := d.Metrics(t)
		if strings.Contains(m, line) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q in /metrics:\n%s", line, grepLines(m, "hemostat_alert"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func getJSON(t *testing.T, url string, into any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}
