package slack

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/slack-go/slack"

	"github.com/hemostat/hemostat/plugins/internal/delivery"
	"github.com/hemostat/hemostat/sdk"
)

// permanentSlackErrors are Web API errors a retry cannot cure: the token,
// the channel or the message is wrong until a person changes something.
var permanentSlackErrors = map[string]string{
	"invalid_auth":      "Slack refused the token (invalid_auth)",
	"not_authed":        "no token was sent (not_authed)",
	"account_inactive":  "the token's account or app is deactivated (account_inactive)",
	"token_revoked":     "the token was revoked (token_revoked)",
	"token_expired":     "the token expired (token_expired)",
	"channel_not_found": "the channel does not exist or the bot cannot see it (channel_not_found)",
	"not_in_channel":    "the bot is not a member of the channel; invite it with /invite (not_in_channel)",
	"is_archived":       "the channel is archived (is_archived)",
	"missing_scope":     "the token lacks a scope: chat:write, and channels:read to check the channel by name (missing_scope)",
	"invalid_blocks":    "Slack refused the message's blocks (invalid_blocks)",
	"msg_too_long":      "the message is too long (msg_too_long)",
}

// transientSlackErrors are Web API errors Slack itself says to retry.
var transientSlackErrors = map[string]bool{
	"internal_error": true, "fatal_error": true, "service_unavailable": true, "request_timeout": true,
}

// classify turns a slack-go error into one marked for hemostatd's retries.
// It never carries the token: slack-go does not put it in errors, and a
// transport error is stripped of its URL.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return sdk.RetryAfter(fmt.Errorf("slack: rate limited"), max(rl.RetryAfter, time.Second))
	}
	var sc slack.StatusCodeError
	if errors.As(err, &sc) {
		e := fmt.Errorf("slack answered HTTP %d", sc.Code)
		if sc.Code == http.StatusRequestTimeout || sc.Code >= 500 {
			return e
		}
		return sdk.Permanent(e)
	}
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		if se.Err == "ratelimited" {
			return sdk.RetryAfter(errors.New("slack: ratelimited"), delivery.DefaultRetryAfter)
		}
		if transientSlackErrors[se.Err] {
			return fmt.Errorf("slack: %s", se.Err)
		}
		if msg, ok := permanentSlackErrors[se.Err]; ok {
			return sdk.Permanent(errors.New("slack: " + msg))
		}
		return sdk.Permanent(fmt.Errorf("slack: %s", se.Err))
	}
	return delivery.Transport("slack", err)
}

// slackCode is the Web API error code of err, "" if it has none.
func slackCode(err error) string {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	return ""
}
