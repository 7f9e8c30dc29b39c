package monitor

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// TestRedactGolden runs every line of testdata/redact.input through redact
// and compares with testdata/redact.golden (go test -update rewrites it).
func TestRedactGolden(t *testing.T) {
	in, err := os.ReadFile(filepath.Join("testdata", "redact.input"))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(tailLines(string(in), 1000), "\n") + "\n"
	golden := filepath.Join("testdata", "redact.golden")
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
	for _, secret := range []string{"hunter2", "s3cr3t", "abcdef123456", "eyJhbGci", "dXNlcjpwYXNz", "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI", "very secret value", "0123456789abcdef", "abc.def-ghi", "quoted value"} {
		if strings.Contains(got, secret) {
			t.Errorf("secret %q survived redaction", secret)
		}
	}
}

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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tailLines(tt.text, tt.n)
			if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
				t.Fatalf("tailLines = %q, want %q", got, tt.want)
			}
		})
	}
}
