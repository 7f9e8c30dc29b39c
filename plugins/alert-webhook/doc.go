// Package webhook is HemoStat's generic alert plugin: each notification is
// POSTed as a stable JSON document — the notification, plus the envelope it
// came from, byte for byte — signed with HMAC-SHA256 over the timestamp and
// the body, so that a team can bridge HemoStat to PagerDuty, Teams, Discord
// or a service of its own without a template language.
//
// The plugin only posts and classifies the answer (2xx done, 429 wait for
// Retry-After, 408/5xx and network errors retry, any other 4xx give up);
// hemostatd owns the retries, the grouping and the routing. The URL and the
// secret never appear in a log line or an error. See README.md.
package webhook
