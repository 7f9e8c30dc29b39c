package logline

import (
	"bytes"
	"strings"
	"testing"
)

func TestAppend(t *testing.T) {
	tests := []struct {
		name, in, want string
		max            int
	}{
		{"plain", "2026-01-01T00:00:00.000Z [INFO]  hemostatd: ok: container=api\n", "2026-01-01T00:00:00.000Z [INFO]  hemostatd: ok: container=api\n", 100},
		{"forged line", "[INFO] false alarm: x\n2026-01-01T00:00:00.000Z [ERROR] hemostatd: FORGED LOG LINE\n",
			`[INFO] false alarm: x\n2026-01-01T00:00:00.000Z [ERROR] hemostatd: FORGED LOG LINE` + "\n", 200},
		{"carriage return", "a\rb\n", `a\rb` + "\n", 100},
		{"escape and bell", "name=\x1b[31mred\x07\n", `name=\x1b[31mred\a` + "\n", 100},
		{"line separator", "a\u2028b\n", `a\u2028b` + "\n", 100},
		{"C1 control", "a\u0085b\n", `a\u0085b` + "\n", 100},
		{"tab kept", "a\tb\n", "a\tb\n", 100},
		{"invalid UTF-8", "a\xffb\n", `a\xffb` + "\n", 100},
		{"unicode kept", "café ✓\n", "café ✓\n", 100},
		{"no final newline", "x", "x\n", 100},
		{"capped", strings.Repeat("a", 20) + "\n", "aaaaaaaaaa…[10 bytes cut]\n", 10},
		{"cap counts escapes", strings.Repeat("\n", 10) + "\n", `\n\n\n` + "…[7 bytes cut]\n", 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(Append(nil, []byte(tt.in), tt.max))
			if got != tt.want {
				t.Fatalf("Append(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			if strings.Count(got, "\n") != 1 || strings.ContainsAny(got, "\r\x1b\x07") {
				t.Fatalf("Append(%q) = %q is not one clean line", tt.in, got)
			}
		})
	}
}

// TestEscape: a field for a terminal table loses its tabs and newlines
// as well as every other control character; printable text is kept.
func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"api-1":                   "api-1",
		"café ✓":                  "café ✓",
		"a\tb":                    `a\tb`,
		"web\nFORGED  running":    `web\nFORGED  running`,
		"\x1b[2J\x1b]0;owned\x07": `\x1b[2J\x1b]0;owned\a`,
		"a\u2028b\xff":            `a\u2028b\xff`,
		"trailing newline kept\n": `trailing newline kept\n`,
	} {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWriter(t *testing.T) {
	var out bytes.Buffer
	w := NewWriter(&out, 0)
	in := []byte("x\ny\n")
	n, err := w.Write(in)
	if err != nil || n != len(in) {
		t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(in))
	}
	if got := out.String(); got != `x\ny`+"\n" {
		t.Fatalf("wrote %q", got)
	}
}
