package monitor

import (
	"strings"
	"testing"

	"github.com/hemostat/hemostat/sdk/redact"
)

func TestTailLines(t *testing.T) {
	long := strings.Repeat("x", 3000)
	tests := []struct {
		name string
		text string
		n    int
		want []string
	}{
		{"last n", "a\nb\nc\nd\n", 2, []string{"c", "d"}},
		{"fewer than n", "a\r\nb", 5, []string{"a", "b"}},
		{"empty", "", 3, nil},
		{"long line trimmed", long + "\n", 1, []string{strings.Repeat("x", maxLogLineBytes) + "…"}},
		{"secret redacted before trim", strings.Repeat("y", 1020) + " password=hunter2\n", 1, []string{strings.Repeat("y", 1020) + " pas…"}},
		{"issue 7 misses", "--password hunter2\npass=hunter2\nAPI_KEY hunter2\n", 3, []string{"--password [REDACTED]", "pass=[REDACTED]", "API_KEY [REDACTED]"}},
		{"key block across lines", "-----BEGIN PRIVATE KEY-----\n" + strings.Repeat("QUJD", 20) + "\n-----END PRIVATE KEY-----\nnext\n", 5, []string{redact.Mask, "next"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tailLines(tt.text, tt.n, redact.Default())
			if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
				t.Fatalf("tailLines = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTailLinesExtraPattern(t *testing.T) {
	s, err := parseConfig(Config{RedactPatterns: []string{`acme-[0-9]{4}`}})
	if err != nil {
		t.Fatal(err)
	}
	got := tailLines("id acme-1234 ok\n", 1, s.redactor)
	if want := []string{"id [REDACTED] ok"}; got[0] != want[0] {
		t.Fatalf("tailLines = %q, want %q", got, want)
	}
	if _, err := parseConfig(Config{RedactPatterns: []string{`(`}}); err == nil || !strings.Contains(err.Error(), "redact_patterns") {
		t.Fatalf("bad pattern: error %v, want one naming redact_patterns", err)
	}
}
