package slack

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/hemostat/hemostat/plugins/internal/delivery"
	"github.com/hemostat/hemostat/sdk"
)

// Config is the plugin's config block.
type Config struct {
	// WebhookURL is an incoming webhook; a credential, never logged.
	WebhookURL string `json:"webhook_url"`
	// Token is a bot token (xoxb-…) used with Channel; never logged.
	Token   string `json:"token"`
	Channel string `json:"channel"`
	// DashboardURL, when set, is linked from every message.
	DashboardURL string `json:"dashboard_url"`
	// APIURL is another Slack Web API base (tests, proxies); it ends in "/".
	APIURL string `json:"api_url"`
	// ThreadWindow is how long after the last message of an incident a
	// follow-up still replies in its thread (bot mode). Default 1h.
	ThreadWindow string `json:"thread_window"`

	threadWindow time.Duration
}

// DefaultThreadWindow is the incident window of a thread.
const DefaultThreadWindow = time.Hour

// botMode reports whether messages go through the Web API.
func (c Config) botMode() bool { return c.Token != "" }

// ParseConfig decodes and checks a config block without network access.
func ParseConfig(raw json.RawMessage) (Config, error) {
	var c Config
	if err := sdk.DecodeConfig(raw, &c); err != nil {
		return Config{}, err
	}
	var errs sdk.ConfigErrors
	switch {
	case c.WebhookURL == "" && c.Token == "":
		errs = append(errs, sdk.ConfigError{Message: "set webhook_url, or token and channel"})
	case c.WebhookURL != "" && c.Token != "":
		errs = append(errs, sdk.ConfigError{Key: "token", Message: "set webhook_url or token, not both"})
	}
	if c.WebhookURL != "" {
		if msg := delivery.CheckURL(c.WebhookURL); msg != "" {
			errs = append(errs, sdk.ConfigError{Key: "webhook_url", Message: msg})
		}
	}
	if c.Token != "" && strings.TrimSpace(c.Channel) == "" {
		errs = append(errs, sdk.ConfigError{Key: "channel", Message: "is required with a token: a channel ID (C0123…) or #name"})
	}
	if c.DashboardURL != "" {
		if u, err := url.Parse(c.DashboardURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, sdk.ConfigError{Key: "dashboard_url", Message: "must be an http:// or https:// URL"})
		}
	}
	if c.APIURL != "" {
		if msg := delivery.CheckURL(c.APIURL); msg != "" {
			errs = append(errs, sdk.ConfigError{Key: "api_url", Message: msg})
		} else if !strings.HasSuffix(c.APIURL, "/") {
			// slack-go appends method names to it.
			c.APIURL += "/"
		}
	}
	c.threadWindow = DefaultThreadWindow
	if c.ThreadWindow != "" {
		d, err := time.ParseDuration(c.ThreadWindow)
		if err != nil || d <= 0 {
			errs = append(errs, sdk.ConfigError{Key: "thread_window", Message: fmt.Sprintf("%q is not a positive duration such as \"1h\"", c.ThreadWindow)})
		}
		c.threadWindow = d
	}
	if len(errs) > 0 {
		return Config{}, errs
	}
	return c, nil
}
