// Package slack is HemoStat's Slack alert plugin (github.com/slack-go/slack),
// built into hemostatd and off until configured. It posts through an
// incoming webhook, or with a bot token (chat.postMessage, chat.update),
// where every incident gets one thread: the first notification about a
// container starts it, follow-ups within thread_window reply in it, and the
// parent's status line is updated ("restarted 3× · deferred 2× —
// escalated"). Thread state lives in hemostatd's shared state in Redis
// (hemostat:state:slack.thread.<channel>.<host>/<container>, expiring after
// thread_window), so a restart of hemostatd keeps the threads.
//
// Every message is Block Kit inside a legacy attachment that carries the
// severity's colour, with a top-level text fallback for mobile
// notifications; Slack's limits are met by truncating with a marker, never
// by failing. Configure checks the token (auth.test), the channel and a
// webhook URL without posting a message, so `hemostatd validate` catches
// invalid_auth, channel_not_found and not_in_channel. Delivery failures are
// classified for hemostatd's retries (429 → Retry-After, 5xx → backoff,
// other 4xx and Slack's auth and channel errors → permanent). The token and
// the webhook URL never appear in a log line, an error or Redis.
package slack
