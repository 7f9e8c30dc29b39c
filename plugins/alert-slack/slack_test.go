package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hemostat/hemostat/internal/fakeslack"
	"github.com/hemostat/hemostat/plugins/internal/notifytest"
	"github.com/hemostat/hemostat/sdk"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func harness(t *testing.T, cfg map[string]any) (*sdk.Harness, error) {
	h := sdk.NewHarness(t, New())
	return h, h.Configure(context.Background(), cfg)
}

// TestGoldenMessages: one golden webhook payload per kind of notification:
// Block Kit in an attachment with the severity's colour, and a top-level
// text.
func TestGoldenMessages(t *testing.T) {
	fs := fakeslack.New(t)
	h, err := harness(t, map[string]any{"webhook_url": fs.WebhookURL(), "dashboard_url": "https://hemostat.example/"})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range notifytest.Samples() {
		t.Run(s.Name, func(t *testing.T) {
			if err := h.Notifier().Notify(context.Background(), s.N); err != nil {
				t.Fatal(err)
			}
			calls := fs.Calls("webhook")
			body := calls[len(calls)-1].JSON
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, body, "", "  "); err != nil {
				t.Fatal(err)
			}
			pretty.WriteByte('\n')
			golden := filepath.Join("testdata", s.Name+".json")
			if *update {
				if err := os.WriteFile(golden, pretty.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if pretty.String() != string(want) {
				t.Errorf("message differs from %s (run with -update to accept):\n%s", golden, pretty.String())
			}
		})
	}
	// Configure probed the webhook with an empty payload, which posts
	// nothing; every other call was a message.
	if got, want := len(fs.Calls("webhook")), len(notifytest.Samples())+1; got != want {
		t.Errorf("%d webhook calls, want %d", got, want)
	}
}

// TestSlackLimits: oversized content is truncated with a marker, never
// refused.
func TestSlackLimits(t *testing.T) {
	n := notifytest.Samples()[1].N
	n.Reason = strings.Repeat("héllo wörld ", 1000)
	n.Title = strings.Repeat("very long title ", 30)
	n.Error = strings.Repeat("e", 5000)
	for i := range 20 {
		n.Figures = append(n.Figures, sdk.Figure{Name: "f", Value: strings.Repeat("x", 3000+i)})
	}
	for _, m := range []Message{render(n, Config{}), render(notifytest.Storm(10000), Config{})} {
		if len(m.Text) > maxText {
			t.Errorf("text is %d bytes", len(m.Text))
		}
		raw, _ := json.Marshal(m.Attachment)
		var att struct {
			Blocks []struct {
				Type string `json:"type"`
				Text *struct {
					Text string `json:"text"`
				} `json:"text"`
				Fields []struct {
					Text string `json:"text"`
				} `json:"fields"`
			} `json:"blocks"`
		}
		if err := json.Unmarshal(raw, &att); err != nil {
			t.Fatal(err)
		}
		if len(att.Blocks) > maxBlocks {
			t.Errorf("%d blocks", len(att.Blocks))
		}
		truncated := false
		for _, b := range att.Blocks {
			if b.Text != nil {
				limit := maxSectionText
				if b.Type == "header" {
					limit = maxHeaderText
				}
				if len(b.Text.Text) > limit {
					t.Errorf("%s text of %d bytes", b.Type, len(b.Text.Text))
				}
				truncated = truncated || strings.Contains(b.Text.Text, "(truncated)")
			}
			if len(b.Fields) > maxFields {
				t.Errorf("%d fields", len(b.Fields))
			}
			for _, f := range b.Fields {
				if len(f.Text) > maxFieldText {
					t.Errorf("field of %d bytes", len(f.Text))
				}
			}
		}
		if !truncated && !strings.Contains(string(raw), "more; the dashboard") {
			t.Errorf("no truncation marker in %s…", raw[:200])
		}
	}
}

func botConfig(fs *fakeslack.Server) map[string]any {
	return map[string]any{"token": fakeslack.Token, "channel": "#ops", "api_url": strings.TrimSuffix(fs.APIURL(), "/")}
}

// TestThreadAcrossRestart: in bot mode an incident is one thread; its
// follow-ups reply in it and update the parent's status line, and a new
// plugin process (hemostatd restarted) finds the thread in the shared
// state and keeps using it.
func TestThreadAcrossRestart(t *testing.T) {
	fs := fakeslack.New(t)
	ctx := context.Background()
	h1, err := harness(t, botConfig(fs))
	if err != nil {
		t.Fatal(err)
	}
	samples := map[string]sdk.Notification{}
	for _, s := range notifytest.Samples() {
		samples[s.Name] = s.N
	}
	at := func(n sdk.Notification, d time.Duration) sdk.Notification { n.Time = notifytest.T0.Add(d); return n }
	for _, n := range []sdk.Notification{at(samples["remediation_success"], 0), at(samples["remediation_deferred"], 5*time.Second)} {
		if err := h1.Notifier().Notify(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	// hemostatd restarts: a new plugin process, the same Redis.
	h2 := sdk.NewHarness(t, New())
	h2.Host = h1.Host
	if err := h2.Configure(ctx, botConfig(fs)); err != nil {
		t.Fatal(err)
	}
	esc := at(samples["escalation_breaker"], 2*time.Minute)
	if err := h2.Notifier().Notify(ctx, esc); err != nil {
		t.Fatal(err)
	}
	other := at(samples["false_alarm"], 3*time.Minute) // another container: its own thread
	if err := h2.Notifier().Notify(ctx, other); err != nil {
		t.Fatal(err)
	}

	posts := fs.Calls("chat.postMessage")
	if len(posts) != 4 {
		t.Fatalf("%d messages posted, want 4", len(posts))
	}
	parent := "1700000001.000100"
	for i, want := range []string{"", parent, parent, ""} {
		if got := posts[i].Form.Get("thread_ts"); got != want {
			t.Errorf("message %d: thread_ts %q, want %q", i, got, want)
		}
		if posts[i].Form.Get("text") == "" || !strings.Contains(posts[i].Form.Get("attachments"), `"blocks"`) {
			t.Errorf("message %d has no text fallback or no blocks: %v", i, posts[i].Form)
		}
	}
	updates := fs.Calls("chat.update")
	if len(updates) != 2 {
		t.Fatalf("%d parent updates, want 2", len(updates))
	}
	last := updates[1].Form
	if last.Get("ts") != parent || !strings.Contains(last.Get("text"), "restarted 1× · deferred 3× — escalated: needs a person") ||
		!strings.Contains(last.Get("attachments"), "#d40e0d") {
		t.Errorf("the parent's last update: %v", last)
	}
	key := threadKey("C0OPS0001", esc)
	if ttl := h1.Host.TTL(key); ttl != DefaultThreadWindow {
		t.Errorf("thread state kept for %s, want %s", ttl, DefaultThreadWindow)
	}
	for k, v := range h1.Host.State() {
		if strings.Contains(string(v), fakeslack.Token) || strings.Contains(k, fakeslack.Token) {
			t.Errorf("the token is in the shared state: %s = %s", k, v)
		}
	}
	// After the incident window, the next trouble is a new thread.
	late := at(samples["remediation_success"], 3*time.Hour)
	if err := h2.Notifier().Notify(ctx, late); err != nil {
		t.Fatal(err)
	}
	posts = fs.Calls("chat.postMessage")
	if got := posts[len(posts)-1].Form.Get("thread_ts"); got != "" {
		t.Errorf("a notification after the window replied in the old thread %s", got)
	}
}

// TestDeliveryFailures: what each of Slack's answers means for hemostatd's
// retries; neither the token nor the webhook URL is ever in an error.
func TestDeliveryFailures(t *testing.T) {
	n := notifytest.Samples()[0].N
	n.Container = "" // no thread: one call per notification
	for _, tc := range []struct {
		name      string
		webhook   bool
		fail      fakeslack.Failure
		permanent bool
		after     time.Duration
		message   string
	}{
		{"429", false, fakeslack.Failure{Status: 429, RetryAfter: "7"}, false, 7 * time.Second, "rate limited"},
		{"500", false, fakeslack.Failure{Status: 500}, false, 0, "HTTP 500"},
		{"invalid_auth", false, fakeslack.Failure{SlackError: "invalid_auth"}, true, 0, "Slack refused the token (invalid_auth)"},
		{"not_in_channel", false, fakeslack.Failure{SlackError: "not_in_channel"}, true, 0, "invite it with /invite"},
		{"webhook 404", true, fakeslack.Failure{Status: 404, SlackError: "no_service"}, true, 0, "404 Not Found: no_service"},
		{"webhook 429", true, fakeslack.Failure{Status: 429, RetryAfter: "3", SlackError: "rate_limited"}, false, 3 * time.Second, "429"},
		{"webhook 500", true, fakeslack.Failure{Status: 500}, false, 0, "500"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := fakeslack.New(t)
			cfg, method := botConfig(fs), "chat.postMessage"
			if tc.webhook {
				cfg, method = map[string]any{"webhook_url": fs.WebhookURL()}, "webhook"
			}
			h, err := harness(t, cfg)
			if err != nil {
				t.Fatal(err)
			}
			fs.Fail(method, tc.fail)
			err = h.Notifier().Notify(context.Background(), n)
			if err == nil {
				t.Fatal("delivered")
			}
			if sdk.IsPermanent(err) != tc.permanent {
				t.Errorf("permanent = %v, want %v (%v)", !tc.permanent, tc.permanent, err)
			}
			if d, _ := sdk.RetryAfterOf(err); d != tc.after {
				t.Errorf("retry after %s, want %s", d, tc.after)
			}
			if !strings.Contains(err.Error(), tc.message) {
				t.Errorf("error %q does not say %q", err, tc.message)
			}
			if strings.Contains(err.Error(), fakeslack.Token) || strings.Contains(err.Error(), fakeslack.WebhookSecret) {
				t.Errorf("the error shows a secret: %v", err)
			}
			// The retry hemostatd makes goes through.
			if err := h.Notifier().Notify(context.Background(), n); err != nil {
				t.Errorf("retry: %v", err)
			}
		})
	}
}

// TestConfigureCatchesBadSettings: `hemostatd validate` sees a bad token,
// channel or webhook without a message being posted.
func TestConfigureCatchesBadSettings(t *testing.T) {
	fs := fakeslack.New(t)
	api := strings.TrimSuffix(fs.APIURL(), "/")
	for _, tc := range []struct {
		cfg  map[string]any
		want string
	}{
		{map[string]any{"token": "xoxb-revoked", "channel": "#ops", "api_url": api}, "token: Slack refused the token (invalid_auth)"},
		{map[string]any{"token": fakeslack.Token, "channel": "#nope", "api_url": api}, "channel: no channel #nope the bot can see (channel_not_found)"},
		{map[string]any{"token": fakeslack.Token, "channel": "#elsewhere", "api_url": api}, "channel: the bot is not a member of #elsewhere"},
		{map[string]any{"token": fakeslack.Token, "channel": "C0NOPE001", "api_url": api}, "channel: the channel does not exist or the bot cannot see it (channel_not_found)"},
		{map[string]any{"webhook_url": strings.Replace(fs.WebhookURL(), fakeslack.WebhookSecret, "REVOKED", 1)}, "webhook_url: Slack refused the webhook: 404 Not Found no_service"},
		{map[string]any{"webhook_url": "hooks.slack.com/services/x"}, "webhook_url: must be an http:// or https:// URL"},
		{map[string]any{"token": fakeslack.Token}, "channel: is required with a token"},
		{map[string]any{}, "set webhook_url, or token and channel"},
		{map[string]any{"webhook_url": fs.WebhookURL(), "token": fakeslack.Token, "channel": "#ops"}, "token: set webhook_url or token, not both"},
		{map[string]any{"webhook_url": fs.WebhookURL(), "thread_window": "soon"}, "thread_window"},
	} {
		_, err := harness(t, tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.cfg, err, tc.want)
		}
		if err != nil && (strings.Contains(err.Error(), "REVOKED") || strings.Contains(err.Error(), "xoxb-")) {
			t.Errorf("the error shows a secret: %v", err)
		}
	}
	for _, ok := range []map[string]any{
		{"token": fakeslack.Token, "channel": "#ops", "api_url": api},
		{"token": fakeslack.Token, "channel": "C0OPS0001", "api_url": api + "/"},
		{"webhook_url": fs.WebhookURL()},
		// Slack unreachable: accepted with a warning, so hemostatd starts.
		{"token": fakeslack.Token, "channel": "#ops", "api_url": "http://127.0.0.1:1/api/"},
	} {
		if _, err := harness(t, ok); err != nil {
			t.Errorf("%v: %v", ok, err)
		}
	}
	if n := len(fs.Calls("chat.postMessage")); n != 0 {
		t.Errorf("Configure posted %d messages", n)
	}
}

// TestFleetThreadsPerHost: in a fleet two hosts' web-1 are two incidents,
// each with its own thread in the shared state, even when their daemons'
// plugins share one Redis and one channel; each host's follow-up replies
// in its own host's thread.
func TestFleetThreadsPerHost(t *testing.T) {
	fs := fakeslack.New(t)
	ctx := context.Background()
	h1, err := harness(t, botConfig(fs))
	if err != nil {
		t.Fatal(err)
	}
	h2 := sdk.NewHarness(t, New())
	h2.Host = h1.Host // one Redis
	if err := h2.Configure(ctx, botConfig(fs)); err != nil {
		t.Fatal(err)
	}
	var base sdk.Notification
	for _, s := range notifytest.Samples() {
		if s.Name == "remediation_success" {
			base = s.N
		}
	}
	on := func(host string, d time.Duration) sdk.Notification {
		n := base
		n.Host, n.Container, n.Time = host, host+"/web-1", notifytest.T0.Add(d)
		return n
	}
	for _, step := range []struct {
		h *sdk.Harness
		n sdk.Notification
	}{{h1, on("rack-1", 0)}, {h2, on("rack-2", time.Second)}, {h1, on("rack-1", 2*time.Second)}, {h2, on("rack-2", 3*time.Second)}} {
		if err := step.h.Notifier().Notify(ctx, step.n); err != nil {
			t.Fatal(err)
		}
	}
	posts := fs.Calls("chat.postMessage")
	if len(posts) != 4 {
		t.Fatalf("%d messages posted, want 4", len(posts))
	}
	parent1, parent2 := posts[0].Form.Get("thread_ts"), posts[1].Form.Get("thread_ts")
	if parent1 != "" || parent2 != "" {
		t.Fatalf("the first message of each host replied in a thread (%q, %q): the incidents collided", parent1, parent2)
	}
	threads := map[string]bool{}
	for k := range h1.Host.State() {
		if strings.HasPrefix(k, "slack.thread.") {
			threads[k] = true
		}
	}
	if len(threads) != 2 {
		t.Fatalf("shared state holds threads %v, want one per host", threads)
	}
	r1, r2 := posts[2].Form.Get("thread_ts"), posts[3].Form.Get("thread_ts")
	if r1 == "" || r2 == "" || r1 == r2 {
		t.Errorf("follow-ups replied in %q and %q, want each in its own host's thread", r1, r2)
	}
}
