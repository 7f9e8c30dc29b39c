// Package redact hides secrets in free text — container log tails, error
// messages, anything a plugin is about to put on the bus or hand to an
// outside service such as an LLM.
//
// The patterns are data (rules.go): a subset of the gitleaks default rules
// for tokens that carry their own recognisable prefix (GitHub, GitLab,
// Slack, AWS, OpenAI, Anthropic, Stripe, …) and HemoStat's rules for the
// shapes secrets take in logs and command lines (key=value, --password x,
// API_KEY x, Authorization headers, credentials in URLs, private key
// blocks, e-mail addresses). A match is replaced by Mask; what names the
// secret (the key, the scheme, the header) stays, so a reader still sees
// which credential leaked.
//
// Redaction is best effort: it removes what looks like a secret, it cannot
// prove that nothing secret is left. Extra patterns for a site's own secret
// shapes are passed to New.
package redact
