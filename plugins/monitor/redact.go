package monitor

import "regexp"

// redacted replaces a secret in a log line.
const redacted = "[REDACTED]"

// secretPattern finds one kind of secret; replace keeps what names the
// secret, so that a reader still sees which credential leaked.
type secretPattern struct {
	re      *regexp.Regexp
	replace string
}

// secretPatterns are applied in order to every log line.
var secretPatterns = []secretPattern{
	// Authorization headers: "Authorization: Bearer abc", "authorization=Basic abc".
	{regexp.MustCompile(`(?i)(\bauthorization["']?\s*[:=]\s*["']?(?:(?:bearer|basic|token|digest)\s+)?)[^\s"',;]+`), "${1}" + redacted},
	// A bare bearer token anywhere.
	{regexp.MustCompile(`(?i)(\bbearer\s+)[A-Za-z0-9\-._~+/]+=*`), "${1}" + redacted},
	// key=value, key: value and "key": "value" where the key names a
	// secret (password, passwd, pwd, secret, token, api_key, apikey,
	// access_key, private_key, credentials), prefixed forms such as
	// DB_PASSWORD or aws_secret_access_key included.
	{regexp.MustCompile(`(?i)([A-Za-z0-9_.\-]*(?:password|passwd|pwd|secret|token|api[_\-]?key|access[_\-]?key|private[_\-]?key|credentials?)[A-Za-z0-9_.\-]*["']?\s*[:=]\s*)(?:"[^"]*"|'[^']*'|[^\s,;&"']+)`), "${1}" + redacted},
	// Credentials in URLs: scheme://user:password@host.
	{regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.\-]*://[^/\s:@]+:)[^/\s@]+@`), "${1}" + redacted + "@"},
	// AWS access key IDs need no key name to be recognised.
	{regexp.MustCompile(`\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b`), redacted},
}

// redact hides the secrets in one log line.
func redact(line string) string {
	for _, p := range secretPatterns {
		line = p.re.ReplaceAllString(line, p.replace)
	}
	return line
}
