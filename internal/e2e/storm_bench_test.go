package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hemostat/hemostat/internal/fakeslack"
	"github.com/hemostat/hemostat/internal/testenv"
	"github.com/hemostat/hemostat/sdk"
)

// stormConfig is the whole flow — the scripted monitor, the threshold
// analyzer, the recording responder — with the built-in Slack plugin in
// bot mode on the fake. %s is the alert section's grouping settings.
const stormConfig = `
plugin_dir = "{{plugins}}"
redis { address = "{{redis}}" }
http  { address = "{{http}}" }
monitor {
  sustain = "0s"
  grace   = "0s"
  plugin "script" {}
}
analyzer {
  plugin "threshold" {}
}
responder {
  plugin "record" {}
}
alert {
  %s
  plugin "slack" {
    config {
      token   = "%s"
      channel = "#ops"
      api_url = "%s"
    }
  }
}
`

// BenchmarkStorm: 200 containers crash within 10 s (a die sample every
// 50 ms through the scripted monitor, judged, "restarted" by the recording
// responder). It reports the Slack messages posted, the containers named
// in them (every one must be), and the time from the first crash to the
// first message — with the default grouping, and as the baseline, in the
// same run, with grouping and storm summaries off: a message per crash.
func BenchmarkStorm(b *testing.B) {
	for _, v := range []struct{ name, alert string }{
		{"grouped", ""}, // the defaults: dedupe_window 5m, storm 5 in 1m, wait 10s
		{"every-message", `dedupe_window = "0s"
  storm { containers = 0 }`},
	} {
		b.Run(v.name, func(b *testing.B) {
			var messages, named int
			var first, all time.Duration
			for range b.N {
				r := storm(b, v.alert, 200, 10*time.Second)
				messages += r.messages
				named += r.named
				first += r.first
				all += r.all
			}
			runs := float64(b.N)
			b.ReportMetric(float64(messages)/runs, "messages")
			b.ReportMetric(float64(named)/runs, "containers-named")
			b.ReportMetric(float64(first.Milliseconds())/runs, "ms-to-first-message")
			b.ReportMetric(all.Seconds()/runs, "s-to-all-named")
		})
	}
}

// TestStormOf50IsASummary: 50 containers crash within 2 s; the Slack
// channel gets a handful of messages, and every container is named in
// them.
func TestStormOf50IsASummary(t *testing.T) {
	r := storm(t, "", 50, 2*time.Second)
	// The storm's first 5 go out alone, the rest in one summary; a slow
	// machine may split the rest over two.
	if r.messages > 8 {
		t.Errorf("%d messages for a storm of 50 containers", r.messages)
	}
}

// stormResult is what a storm came to in Slack: the messages posted once
// every container was named, how many were named, and the time from the
// first crash to the first message and to the message naming the last.
type stormResult struct {
	messages, named int
	first, all      time.Duration
}

// storm makes n containers crash evenly within spread on a fresh
// hemostatd.
func storm(b testing.TB, alert string, n int, spread time.Duration) stormResult {
	b.Helper()
	fs := fakeslack.New(b)
	srv := testenv.StartRedis(b)
	d := startDaemon(b, srv, fmt.Sprintf(stormConfig, alert, fakeslack.Token, fs.APIURL()))
	defer d.Stop()
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("storm-%03d", i)
	}
	start := time.Now()
	every := spread / time.Duration(n)
	for i, name := range names {
		time.Sleep(time.Until(start.Add(time.Duration(i) * every)))
		script(b, d.rdb, sdk.Sample{Container: name, Status: "exited", Event: sdk.EventDie, ExitCode: 1})
	}
	// Every container named, and then nothing more for a while: the
	// storm's last summary is out.
	deadline := time.Now().Add(2 * time.Minute)
	var posts []fakeslack.Call
	var r stormResult
	for {
		posts = fs.Calls("chat.postMessage")
		r.named, r.all = 0, 0
		for _, name := range names {
			if at, ok := mentioned(posts, name); ok {
				r.named++
				r.all = max(r.all, at.Sub(start))
			}
		}
		if r.named == len(names) || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if r.named != len(names) {
		b.Errorf("%d of %d containers named in %d messages", r.named, len(names), len(posts))
	}
	if len(posts) == 0 {
		b.Fatal("no message")
	}
	r.messages, r.first = len(posts), posts[0].At.Sub(start)
	return r
}

// mentioned reports when a message first named the container, in its text
// or its blocks.
func mentioned(posts []fakeslack.Call, name string) (time.Time, bool) {
	for _, p := range posts {
		if strings.Contains(p.Form.Get("text"), name+":") || strings.Contains(p.Form.Get("attachments"), name+":") {
			return p.At, true
		}
	}
	return time.Time{}, false
}
