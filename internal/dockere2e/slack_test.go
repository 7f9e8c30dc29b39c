package dockere2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hemostat/hemostat/internal/fakeslack"
)

// TestSlackThread: a real container crash-loops under a real hemostatd
// whose built-in Slack plugin posts, in bot mode, to a loopback fake Slack.
// The whole incident — the restarts, the deferrals between them and the
// breaker's escalation — is one thread, and the parent's status line ends
// escalated. Run alone: go test ./internal/dockere2e -run TestSlackThread.
func TestSlackThread(t *testing.T) {
	fs := fakeslack.New(t)
	e := newEngine(t)
	p := scenarioPrefix()
	s := newSettings()
	s.BackoffInitial, s.BackoffMax, s.BreakerMax = "2s", "1m", 3
	s.AlertExtra = fmt.Sprintf(`
  plugin "slack" {
    config {
      token   = %q
      channel = "#ops"
      api_url = %q
    }
  }`, fakeslack.Token, fs.APIURL())
	d := startDaemon(t, p, s)
	name := p + "slackloop"
	e.run(t, name, []string{"--exit", "1", "--after", "1s"}, nil, nil)

	d.watch.WaitFor(t, escalateType, name, nil, 90*time.Second)
	var posts []fakeslack.Call
	deadline := time.Now().Add(20 * time.Second)
	for {
		posts = postsAbout(fs, name)
		// The rejected action that opened the breaker may be told after
		// the escalation: any post will do.
		if slices.ContainsFunc(posts, func(c fakeslack.Call) bool { return strings.Contains(c.Form.Get("text"), "needs a person") }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the escalation never reached Slack; posts:\n%s", texts(posts))
		}
		time.Sleep(100 * time.Millisecond)
	}

	parent := ""
	var restarts, deferrals int
	for i, c := range posts {
		text := c.Form.Get("text")
		switch {
		case strings.Contains(text, "restart succeeded"):
			restarts++
		case strings.Contains(text, "restart deferred"):
			deferrals++
		}
		if i == 0 {
			if c.Form.Get("thread_ts") != "" {
				t.Errorf("the first message is a reply: %v", c.Form)
			}
			parent = c.TS
			continue
		}
		if got := c.Form.Get("thread_ts"); got != parent {
			t.Errorf("message %d (%s) is not in the incident's thread %s: thread_ts %q", i, text, parent, got)
		}
	}
	if restarts != 3 || deferrals == 0 {
		t.Errorf("%d restarts and %d deferrals in the thread, want 3 and some:\n%s", restarts, deferrals, texts(posts))
	}
	updates := fs.Calls("chat.update")
	if len(updates) == 0 {
		t.Fatal("the parent was never updated")
	}
	last := updates[len(updates)-1].Form.Get("text")
	if !strings.Contains(last, "restarted 3×") || !strings.Contains(last, "escalated") {
		t.Errorf("the parent's status line is %q, want restarted 3× … escalated", last)
	}
	t.Logf("thread of %d messages; parent: %s", len(posts), last)
}

// postsAbout returns the messages posted about a container, in order.
func postsAbout(fs *fakeslack.Server, name string) []fakeslack.Call {
	var out []fakeslack.Call
	for _, c := range fs.Calls("chat.postMessage") {
		if strings.Contains(c.Form.Get("text"), name) {
			out = append(out, c)
		}
	}
	return out
}

func texts(calls []fakeslack.Call) string {
	var b strings.Builder
	for _, c := range calls {
		fmt.Fprintf(&b, "%s  thread_ts=%s\n", c.Form.Get("text"), c.Form.Get("thread_ts"))
	}
	return b.String()
}
