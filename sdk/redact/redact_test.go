package redact

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// Fake secrets of the right shape, built at run time so that no scanner
// mistakes this file for a leak.
var (
	ghp        = "ghp_" + strings.Repeat("aB3", 12)
	githubPAT  = "github_pat_" + strings.Repeat("x1Y", 27) + "z"
	slackBot   = "xoxb-1234567890-1234567890123-" + strings.Repeat("aZ", 12)
	anthropic  = "sk-ant-api03-" + strings.Repeat("Ab9_", 23) + "xAA"
	openaiProj = "sk-proj-" + strings.Repeat("Qw3-", 10)
	awsKey     = "AKIA" + "IOSFODNN7EXAMPLE"
	pemBlock   = "-----BEGIN RSA PRIVATE KEY-----\n" + strings.Repeat("MIIEowIBAAKCAQEA", 5) + "\n" + strings.Repeat("q1w2e3r4", 9) + "\n-----END RSA PRIVATE KEY-----"
)

func TestString(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"flag with space", "exec mysqld --password hunter2 --port 3306", "exec mysqld --password [REDACTED] --port 3306"},
		{"flag with equals", "run --db-password=hunter2 -v", "run --db-password=[REDACTED] -v"},
		{"short flag name", "psql -pass hunter2", "psql -pass [REDACTED]"},
		{"pass=", "connect pass=hunter2 user=app", "connect pass=[REDACTED] user=app"},
		{"password colon", "password: hunter2", "password: [REDACTED]"},
		{"json password keeps quotes", `{"user":"app","password":"hunter2"}`, `{"user":"app","password":"[REDACTED]"}`},
		{"prefixed env name", "DB_PASSWORD=s3cr3t! user=app", "DB_PASSWORD=[REDACTED] user=app"},
		{"API_KEY space", "loaded API_KEY abc123def from env", "loaded API_KEY [REDACTED] from env"},
		{"export TOKEN space", "export GITHUB_TOKEN 0123abcd", "export GITHUB_TOKEN [REDACTED]"},
		{"github classic token bare", "cloning with " + ghp + " now", "cloning with [REDACTED] now"},
		{"github fine-grained token", "GH=" + githubPAT, "GH=[REDACTED]"},
		{"bearer header", "Authorization: Bearer abc.def-ghi", "Authorization: Bearer [REDACTED]"},
		{"bare bearer", "sent header bearer abcdefgh123", "sent header bearer [REDACTED]"},
		{"basic header", "authorization=Basic dXNlcjpwYXNz", "authorization=Basic [REDACTED]"},
		{"url credentials", "dsn postgres://app:hunter2@db:5432/app", "dsn postgres://app:[REDACTED]@db:5432/app"},
		{"aws key bare", "found key " + awsKey + " in env", "found key [REDACTED] in env"},
		{"slack bot token", "slack " + slackBot + " ok", "slack [REDACTED] ok"},
		{"slack webhook", "post to https://hooks.slack.com/services/T00000000/B00000000/" + strings.Repeat("a", 24), "post to [REDACTED]"},
		{"anthropic key", "key " + anthropic + " end", "key [REDACTED] end"},
		{"openai project key", "OPENAI " + openaiProj, "OPENAI [REDACTED]"},
		{"e-mail address", "mail sent to jane.doe+ops@example.co.uk today", "mail sent to [REDACTED] today"},
		{"private key block", "key:\n" + pemBlock + "\nafter", "key:\n[REDACTED]\nafter"},
		{"private key cut by the tail", "x\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA", "x\n[REDACTED]"},
		// What is not a secret stays.
		{"plain line", "starting server on :8080", "starting server on :8080"},
		{"tokens counted", "nothing to see here: 42 tokens remaining", "nothing to see here: 42 tokens remaining"},
		{"passed is no key", "tests passed: 12", "tests passed: 12"},
		{"bypass is no key", "bypass=true", "bypass=true"},
		{"author is no key", "author: bob", "author: bob"},
		{"short basic word", "basic auth disabled", "basic auth disabled"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := String(tt.in)
			if got != tt.want {
				t.Fatalf("String(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			if again := String(got); again != got {
				t.Fatalf("not idempotent: %q became %q", got, again)
			}
		})
	}
}

func TestNewExtra(t *testing.T) {
	r, err := New(`acme-[0-9a-f]{8}`, `(?i)\bpin code (\d+)`)
	if err != nil {
		t.Fatal(err)
	}
	got := r.String("ticket acme-0badcafe and PIN code 1234 here")
	want := "ticket [REDACTED] and PIN code [REDACTED] here"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got := Default().String("ticket acme-0badcafe"); got != "ticket acme-0badcafe" {
		t.Fatalf("extra pattern leaked into the default redactor: %q", got)
	}
}

func TestNewRejects(t *testing.T) {
	for _, bad := range []string{`(unclosed`, `x*`, ``} {
		if _, err := New(bad); err == nil {
			t.Errorf("New(%q) accepted a pattern it must refuse", bad)
		} else if !strings.Contains(err.Error(), "extra-1") {
			t.Errorf("New(%q) error %q does not name the pattern", bad, err)
		}
	}
}

// TestGolden runs testdata/logs.input through the default redactor and
// compares with testdata/logs.golden (go test -update rewrites it).
func TestGolden(t *testing.T) {
	in, err := os.ReadFile(filepath.Join("testdata", "logs.input"))
	if err != nil {
		t.Fatal(err)
	}
	got := String(string(in))
	golden := filepath.Join("testdata", "logs.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Fatalf("redacted output differs from %s:\n--- got\n%s--- want\n%s", golden, got, want)
	}
	for _, secret := range []string{"hunter2", "s3cr3t", "abcdef123456", "eyJhbGci", "dXNlcjpwYXNz", "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI", "very secret value", "0123456789abcdef", "abc.def-ghi", "quoted value", "ghp_", "xoxb-", "sk-ant-", "MIIE", "ops@example.com", "s3kr1t"} {
		if strings.Contains(got, secret) {
			t.Errorf("secret %q survived redaction", secret)
		}
	}
}

func BenchmarkString(b *testing.B) {
	in, err := os.ReadFile(filepath.Join("testdata", "logs.input"))
	if err != nil {
		b.Fatal(err)
	}
	s := string(in)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		String(s)
	}
}
