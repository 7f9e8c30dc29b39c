package redact

// Rule is one secret pattern. Regex is Go (RE2) syntax. In each match the
// first capture group that took part is replaced by Mask, or the whole
// match when the pattern has no capture group; groups that only structure
// the pattern are written (?:…). Keywords, when set, are lower-case
// substrings of which one must occur in the text for the rule to run — a
// cheap filter, as in gitleaks.
type Rule struct {
	ID       string
	Regex    string
	Keywords []string
	// Multiline rules run on the whole text; the others run on one line at
	// a time, which lets the keyword filter skip most lines.
	Multiline bool
}

// gitleaksSource is where the rules marked gitleaks come from. gitleaks is
// MIT licensed, Copyright (c) 2019 Zachary Rice. The regular expressions are
// copied unchanged; gitleaks' entropy thresholds and allowlists are not
// applied — for redaction a false positive costs a masked word, a false
// negative a leaked secret. The gitleaks module itself is not imported: its
// config package pulls in viper, wazero and go-re2 for one embedded file.
const gitleaksSource = "github.com/zricethezav/gitleaks/v8@v8.30.1 config/gitleaks.toml"

// gitleaksRules are the gitleaks default rules for secrets with a
// recognisable prefix (source: gitleaksSource, rule ids kept).
var gitleaksRules = []Rule{
	{ID: "private-key", Regex: `(?i)-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----[\s\S-]{64,}?KEY(?: BLOCK)?-----`, Keywords: []string{"-----begin"}, Multiline: true},
	{ID: "aws-access-token", Regex: `\b((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b`, Keywords: []string{"a3t", "akia", "asia", "abia", "acca"}},
	{ID: "github-pat", Regex: `ghp_[0-9a-zA-Z]{36}`, Keywords: []string{"ghp_"}},
	{ID: "github-fine-grained-pat", Regex: `github_pat_\w{82}`, Keywords: []string{"github_pat_"}},
	{ID: "github-oauth", Regex: `gho_[0-9a-zA-Z]{36}`, Keywords: []string{"gho_"}},
	{ID: "github-app-token", Regex: `(?:ghu|ghs)_[0-9a-zA-Z]{36}`, Keywords: []string{"ghu_", "ghs_"}},
	{ID: "github-refresh-token", Regex: `ghr_[0-9a-zA-Z]{36}`, Keywords: []string{"ghr_"}},
	{ID: "gitlab-pat", Regex: `glpat-[\w-]{20}`, Keywords: []string{"glpat-"}},
	{ID: "gitlab-runner-authentication-token", Regex: `glrt-[0-9a-zA-Z_\-]{20}`, Keywords: []string{"glrt-"}},
	{ID: "slack-bot-token", Regex: `xoxb-[0-9]{10,13}-[0-9]{10,13}[a-zA-Z0-9-]*`, Keywords: []string{"xoxb"}},
	{ID: "slack-user-token", Regex: `xox[pe](?:-[0-9]{10,13}){3}-[a-zA-Z0-9-]{28,34}`, Keywords: []string{"xoxp-", "xoxe-"}},
	{ID: "slack-app-token", Regex: `(?i)xapp-\d-[A-Z0-9]+-\d+-[a-z0-9]+`, Keywords: []string{"xapp"}},
	{ID: "slack-config-access-token", Regex: `(?i)xoxe.xox[bp]-\d-[A-Z0-9]{163,166}`, Keywords: []string{"xoxe"}},
	{ID: "slack-legacy-token", Regex: `xox[os]-\d+-\d+-\d+-[a-fA-F\d]+`, Keywords: []string{"xoxo-", "xoxs-"}},
	{ID: "slack-webhook-url", Regex: `(?:https?://)?hooks.slack.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{43,56}`, Keywords: []string{"hooks.slack.com"}},
	{ID: "openai-api-key", Regex: `\b(sk-(?:proj|svcacct|admin)-(?:[A-Za-z0-9_-]{74}|[A-Za-z0-9_-]{58})T3BlbkFJ(?:[A-Za-z0-9_-]{74}|[A-Za-z0-9_-]{58})\b|sk-[a-zA-Z0-9]{20}T3BlbkFJ[a-zA-Z0-9]{20})(?:[\x60'"\s;]|\\[nr]|$)`, Keywords: []string{"t3blbkfj"}},
	{ID: "anthropic-api-key", Regex: `\b(sk-ant-api03-[a-zA-Z0-9_\-]{93}AA)(?:[\x60'"\s;]|\\[nr]|$)`, Keywords: []string{"sk-ant-api03"}},
	{ID: "anthropic-admin-api-key", Regex: `\b(sk-ant-admin01-[a-zA-Z0-9_\-]{93}AA)(?:[\x60'"\s;]|\\[nr]|$)`, Keywords: []string{"sk-ant-admin01"}},
	{ID: "stripe-access-token", Regex: `\b((?:sk|rk)_(?:test|live|prod)_[a-zA-Z0-9]{10,99})(?:[\x60'"\s;]|\\[nr]|$)`, Keywords: []string{"sk_", "rk_"}},
	{ID: "gcp-api-key", Regex: `\b(AIza[\w-]{35})(?:[\x60'"\s;]|\\[nr]|$)`, Keywords: []string{"aiza"}},
	{ID: "jwt", Regex: `\b(ey[a-zA-Z0-9]{17,}\.ey[a-zA-Z0-9\/\\_-]{17,}\.(?:[a-zA-Z0-9\/\\_-]{10,}={0,2})?)(?:[\x60'"\s;]|\\[nr]|$)`, Keywords: []string{"ey"}},
	{ID: "npm-access-token", Regex: `(?i)\b(npm_[a-z0-9]{36})(?:[\x60'"\s;]|\\[nr]|$)`, Keywords: []string{"npm_"}},
	{ID: "pypi-upload-token", Regex: `pypi-AgEIcHlwaS5vcmc[\w-]{50,1000}`, Keywords: []string{"pypi-ageichlwas5vcmc"}},
	{ID: "sendgrid-api-token", Regex: `\b(SG\.(?i)[a-z0-9=_\-\.]{66})(?:[\x60'"\s;]|\\[nr]|$)`, Keywords: []string{"sg."}},
	{ID: "hashicorp-tf-api-token", Regex: `(?i)[a-z0-9]{14}\.(?-i:atlasv1)\.[a-z0-9\-_=]{60,70}`, Keywords: []string{"atlasv1"}},
	{ID: "vault-batch-token", Regex: `\b(hvb\.[\w-]{138,300})(?:[\x60'"\s;]|\\[nr]|$)`, Keywords: []string{"hvb."}},
	{ID: "digitalocean-pat", Regex: `\b(dop_v1_[a-f0-9]{64})(?:[\x60'"\s;]|\\[nr]|$)`, Keywords: []string{"dop_v1_"}},
}

// secretName is a key that names a secret, alone or as one part of a
// longer name: password, DB_PASSWORD, aws_secret_access_key, client-secret.
// Parts are joined by _ . or -, so "passed" or "bypass" are not keys.
const secretName = `(?:[a-z0-9]+[_.-])*(?:password|passwd|passphrase|pass|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?|auth)(?:[_.-][a-z0-9]+)*`

// secretValue is a value quoted with " or ', or bare up to a separator;
// the quotes stay, what is between them goes.
const secretValue = `(?:"([^"\n]*)"|'([^'\n]*)'|([^\s,;&"']+))`

// secretKeywords are the words of which secretName holds one.
var secretKeywords = []string{"pass", "pwd", "secret", "token", "key", "credential", "auth"}

// hemostatRules catch the shapes secrets take in logs and command lines
// rather than the tokens themselves.
var hemostatRules = []Rule{
	// An unterminated private key block (the log tail ended inside it):
	// everything from BEGIN on goes.
	{ID: "private-key-unterminated", Regex: `(?i)-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----[\s\S]*`, Keywords: []string{"-----begin"}, Multiline: true},
	// Credentials in URLs: scheme://user:password@host.
	{ID: "url-credentials", Regex: `[a-zA-Z][a-zA-Z0-9+.\-]*://[^/\s:@]+:([^/\s@]+)@`, Keywords: []string{"://"}},
	// Authorization headers: "Authorization: Bearer abc", "authorization=Basic abc".
	{ID: "authorization-header", Regex: `(?i)\b(?:proxy-)?authorization["']?\s*[:=]\s*["']?(?:(?:bearer|basic|token|digest|negotiate)\s+)?([^\s"',;]+)`, Keywords: []string{"authorization"}},
	// A bearer or basic credential anywhere.
	{ID: "bearer-token", Regex: `(?i)\b(?:bearer|basic)\s+([A-Za-z0-9\-._~+/]{8,}=*)`, Keywords: []string{"bearer", "basic"}},
	// OpenAI and Anthropic keys of any generation: sk-…, sk-proj-…, sk-ant-….
	{ID: "sk-api-key", Regex: `\bsk-(?:ant-|proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}`, Keywords: []string{"sk-"}},
	// Slack tokens of any kind.
	{ID: "slack-token", Regex: `\bxox[abposre]-[A-Za-z0-9\-]{10,}`, Keywords: []string{"xox"}},
	// key=value, key: value, "key": "value" where the key names a secret.
	{ID: "secret-assignment", Regex: `(?i)\b` + secretName + `["']?[ \t]*(?::=|=>|[:=])[ \t]*` + secretValue, Keywords: secretKeywords},
	// Command-line flags: --password x, -db-token x (--password=x is an assignment).
	{ID: "secret-flag", Regex: `(?i)(?:^|\s)--?` + secretName + `[ \t]+` + secretValue, Keywords: secretKeywords},
	// Upper-case environment names followed by a space: API_KEY x, export TOKEN x.
	{ID: "secret-env-word", Regex: `\b(?:[A-Z0-9]+_)*(?:PASSWORD|PASSWD|PASSPHRASE|PASS|PWD|SECRET|TOKEN|API_?KEY|ACCESS_KEY|PRIVATE_KEY|CREDENTIALS?)(?:_[A-Z0-9]+)*[ \t]+` + secretValue, Keywords: secretKeywords},
	// E-mail addresses are personal data.
	{ID: "email-address", Regex: `\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}\b`, Keywords: []string{"@"}},
}

// DefaultRules are the rules every Redactor applies, in order: whole blocks
// first, then tokens recognisable on their own, then secrets recognisable by
// what names them.
func DefaultRules() []Rule {
	var rs []Rule
	rs = append(rs, gitleaksRules[0], hemostatRules[0]) // private keys
	rs = append(rs, gitleaksRules[1:]...)
	rs = append(rs, hemostatRules[1:]...)
	return rs
}
