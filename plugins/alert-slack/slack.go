package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/slack-go/slack"

	"github.com/hemostat/hemostat/plugins/internal/delivery"
	"github.com/hemostat/hemostat/sdk"
)

// Name is the plugin's name in hemostatd's config.
const Name = "slack"

// Plugin posts notifications to Slack.
type Plugin struct {
	log  hclog.Logger
	http *http.Client

	mu     sync.Mutex
	cfg    Config
	api    *slack.Client
	host   sdk.Host
	chanID string // the channel's ID in bot mode, once known
}

var _ sdk.Notifier = (*Plugin)(nil)

// New returns an unconfigured plugin.
func New() *Plugin {
	return &Plugin{log: sdk.Logger(Name), http: &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Configure checks the settings and, without posting a message, that
// Slack accepts them: the token (auth.test) and the channel
// (conversations.info or .list), or the webhook (an empty payload, which
// Slack refuses with no_text when the URL is good). A definite refusal is a
// config error; Slack unreachable is only a warning, so hemostatd starts.
func (p *Plugin) Configure(ctx context.Context, raw json.RawMessage, host sdk.Host) error {
	c, err := ParseConfig(raw)
	if err != nil {
		return err
	}
	var api *slack.Client
	chanID := ""
	if c.botMode() {
		opts := []slack.Option{slack.OptionHTTPClient(p.http)}
		if c.APIURL != "" {
			opts = append(opts, slack.OptionAPIURL(c.APIURL))
		}
		api = slack.New(c.Token, opts...)
		if chanID, err = p.checkBot(ctx, api, c.Channel); err != nil {
			return err
		}
	} else if err := p.checkWebhook(ctx, c.WebhookURL); err != nil {
		return err
	}
	p.mu.Lock()
	p.cfg, p.api, p.host, p.chanID = c, api, host, chanID
	p.mu.Unlock()
	return nil
}

// checkBot returns the channel's ID when it could be learned.
func (p *Plugin) checkBot(ctx context.Context, api *slack.Client, channel string) (string, error) {
	if _, err := api.AuthTestContext(ctx); err != nil {
		return "", p.configError(err, "token")
	}
	name := strings.TrimPrefix(channel, "#")
	if !strings.HasPrefix(channel, "#") && looksLikeID(channel) {
		ch, err := api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: channel})
		if err != nil {
			return channel, p.configError(err, "channel")
		}
		if !ch.IsMember && !ch.IsIM {
			return channel, sdk.ConfigError{Key: "channel", Message: "the bot is not a member of the channel; invite it with /invite (not_in_channel)"}
		}
		return channel, nil
	}
	cursor := ""
	for range 50 { // 50 pages of 200: 10 000 channels
		list, next, err := api.GetConversationsContext(ctx, &slack.GetConversationsParameters{
			Cursor: cursor, Limit: 200, ExcludeArchived: true, Types: []string{"public_channel", "private_channel"},
		})
		if err != nil {
			if slackCode(err) == "missing_scope" {
				p.log.Warn("cannot check the channel by name without the channels:read scope; it is checked at the first message")
				return "", nil
			}
			return "", p.configError(err, "channel")
		}
		for _, ch := range list {
			if ch.Name == name {
				if !ch.IsMember {
					return ch.ID, sdk.ConfigError{Key: "channel", Message: "the bot is not a member of #" + name + "; invite it with /invite (not_in_channel)"}
				}
				return ch.ID, nil
			}
		}
		if next == "" {
			return "", sdk.ConfigError{Key: "channel", Message: "no channel #" + name + " the bot can see (channel_not_found)"}
		}
		cursor = next
	}
	return "", nil
}

func looksLikeID(s string) bool {
	if len(s) < 9 || !strings.ContainsRune("CGD", rune(s[0])) {
		return false
	}
	return strings.ToUpper(s) == s
}

// configError is a Configure failure: a definite refusal becomes a config
// error at key; anything else (Slack unreachable, 5xx) is logged and
// accepted, so that hemostatd starts and deliveries retry later.
func (p *Plugin) configError(err error, key string) error {
	c := classify(err)
	if sdk.IsPermanent(c) {
		return sdk.ConfigError{Key: key, Message: strings.TrimPrefix(c.Error(), "slack: ")}
	}
	p.log.Warn("cannot reach Slack to check the settings; will try at the first message", "error", c)
	return nil
}

// checkWebhook posts an empty payload: Slack answers 400 no_text to a good
// URL and posts nothing; a revoked or unknown one answers 403 or 404.
func (p *Plugin) checkWebhook(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader("{}"))
	if err != nil {
		return sdk.ConfigError{Key: "webhook_url", Message: "is not a valid URL"}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.http.Do(req)
	if err != nil {
		p.log.Warn("cannot reach the Slack webhook to check it; will try at the first message", "error", delivery.Transport("slack webhook", err))
		return nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	answer := strings.TrimSpace(string(body))
	switch {
	case resp.StatusCode < 300, answer == "no_text", answer == "invalid_payload", answer == "missing_text_or_fallback_or_attachments":
		return nil
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		p.log.Warn("the Slack webhook could not be checked; will try at the first message", "status", resp.Status)
		return nil
	}
	return sdk.ConfigError{Key: "webhook_url", Message: fmt.Sprintf("Slack refused the webhook: %s %s", resp.Status, delivery.Snippet(body, 80))}
}

// Notify posts one notification: to the webhook, or in bot mode into its
// incident's thread.
func (p *Plugin) Notify(ctx context.Context, n sdk.Notification) error {
	p.mu.Lock()
	c, api, host := p.cfg, p.api, p.host
	p.mu.Unlock()
	if c.Token == "" && c.WebhookURL == "" {
		return sdk.Permanent(errors.New("slack: not configured"))
	}
	msg := render(n, c)
	if !c.botMode() {
		return p.postWebhook(ctx, c.WebhookURL, msg)
	}
	return p.postThreaded(ctx, api, host, c, n, msg)
}

func (p *Plugin) postWebhook(ctx context.Context, url string, msg Message) error {
	body, err := json.Marshal(slack.WebhookMessage{Text: msg.Text, Attachments: []slack.Attachment{msg.Attachment}})
	if err != nil {
		return sdk.Permanent(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return sdk.Permanent(delivery.Transport("slack webhook", err))
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.http.Do(req)
	if err != nil {
		return delivery.Transport("slack webhook", err)
	}
	defer resp.Body.Close()
	detail, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	return delivery.Classify("slack webhook", resp, delivery.Snippet(detail, 80), time.Now())
}

// postThreaded posts n as a reply in its incident's thread, updating the
// parent's status line, or starts the thread.
func (p *Plugin) postThreaded(ctx context.Context, api *slack.Client, host sdk.Host, c Config, n sdk.Notification, msg Message) error {
	channel := c.Channel
	p.mu.Lock()
	if p.chanID != "" {
		channel = p.chanID
	}
	p.mu.Unlock()
	opts := []slack.MsgOption{slack.MsgOptionText(msg.Text, false), slack.MsgOptionAttachments(msg.Attachment)}
	if n.Container == "" || n.Kind == sdk.KindStorm {
		_, _, err := api.PostMessageContext(ctx, channel, opts...)
		return classify(err)
	}
	key := threadKey(channel, n)
	var th thread
	found, err := host.GetSharedState(ctx, key, &th)
	if err != nil {
		p.log.Warn("cannot read the incident's thread; starting a new one", "container", n.Container, "error", err)
		found = false
	}
	if found && th.TS != "" && n.Time.Sub(th.Last) < c.threadWindow {
		_, _, err := api.PostMessageContext(ctx, th.Channel, append(opts, slack.MsgOptionTS(th.TS))...)
		switch code := slackCode(err); {
		case err == nil:
			th.note(n)
			p.saveThread(ctx, host, key, th, c.threadWindow)
			p.updateParent(ctx, api, c, th)
			return nil
		case code == "thread_not_found" || code == "message_not_found":
			// The parent was deleted: start over.
		default:
			return classify(err)
		}
	}
	ch, ts, err := api.PostMessageContext(ctx, channel, opts...)
	if err != nil {
		return classify(err)
	}
	th = thread{Channel: ch, TS: ts, Title: n.Title, Severity: n.Severity, Started: n.Time}
	th.note(n)
	p.saveThread(ctx, host, key, th, c.threadWindow)
	return nil
}

func (p *Plugin) saveThread(ctx context.Context, host sdk.Host, key string, th thread, window time.Duration) {
	if err := sdk.SetSharedStateTTL(ctx, host, key, th, window); err != nil {
		p.log.Warn("cannot keep the incident's thread; its next message starts a new one", "error", err)
	}
}

// updateParent rewrites the thread's first message with the incident's
// status so far. A failure is logged, not returned: the reply is posted,
// and a retry would post it twice.
func (p *Plugin) updateParent(ctx context.Context, api *slack.Client, c Config, th thread) {
	msg := renderParent(th, c)
	_, _, _, err := api.UpdateMessageContext(ctx, th.Channel, th.TS,
		slack.MsgOptionText(msg.Text, false), slack.MsgOptionAttachments(msg.Attachment))
	if err != nil {
		p.log.Warn("cannot update the thread's status line", "error", classify(err))
	}
}

// renderParent is a thread's first message once follow-ups came: its
// title, the status line and the severity's colour so far.
func renderParent(th thread, c Config) Message {
	status := th.statusLine()
	text := truncate(escape(fmt.Sprintf("[%s] %s — %s", th.Severity, th.Title, status)), maxText)
	blocks := []slack.Block{
		slack.NewHeaderBlock(plain(truncate(icon(th.Latest)+" "+th.Title, maxHeaderText))),
		slack.NewSectionBlock(mrkdwn(truncate("*"+escape(status)+"*", maxSectionText)), nil, nil),
		slack.NewContextBlock("", mrkdwn(truncate(fmt.Sprintf("Incident since <!date^%d^{date_short_pretty} {time_secs}|%s> · details in the thread",
			th.Started.Unix(), th.Started.UTC().Format(time.RFC3339)), maxContextText))),
	}
	return Message{Text: text, Attachment: attachment(th.Severity, text, blocks)}
}
