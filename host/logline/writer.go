package logline

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"sync"
	"unicode"
	"unicode/utf8"
)

// DefaultMaxEntry caps one log entry, escapes included: a 10 MiB container
// name from Redis must not become a 10 MiB log line.
const DefaultMaxEntry = 16 << 10

// Writer escapes the control characters inside each entry written to it
// and caps its length. hclog writes one entry per Write, ending in "\n";
// that final newline is the only one left as is. It is safe for
// concurrent use.
type Writer struct {
	out io.Writer
	max int

	mu  sync.Mutex
	buf []byte
}

// NewWriter returns a Writer onto out capping entries at max bytes
// (DefaultMaxEntry when max <= 0).
func NewWriter(out io.Writer, max int) *Writer {
	if max <= 0 {
		max = DefaultMaxEntry
	}
	return &Writer{out: out, max: max}
}

// Write writes p as one entry.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = Append(w.buf[:0], p, w.max)
	if _, err := w.out.Write(w.buf); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Append appends entry to dst as one escaped line of at most max bytes
// (before its newline), ending in "\n".
func Append(dst, entry []byte, max int) []byte {
	if n := len(entry); n > 0 && entry[n-1] == '\n' {
		entry = entry[:n-1]
	}
	return append(appendEscaped(dst, entry, max, true), '\n')
}

// Escape returns s with every control character escaped as Append
// escapes it, tabs included: a field from Redis — a container name, a
// reason — printed into a table on an operator's terminal can then
// neither break the table's lines and columns nor send the terminal
// escape sequences.
func Escape(s string) string {
	return string(appendEscaped(nil, []byte(s), math.MaxInt, false))
}

// appendEscaped appends entry to dst with its control characters escaped,
// cut at max bytes; keepTab leaves tabs as they are.
func appendEscaped(dst, entry []byte, max int, keepTab bool) []byte {
	start := len(dst)
	for i := 0; i < len(entry); {
		r, size := utf8.DecodeRune(entry[i:])
		next := dst
		switch {
		case r == utf8.RuneError && size == 1:
			next = fmt.Appendf(dst, `\x%02x`, entry[i])
		case r == '\t' && keepTab:
			next = append(dst, '\t')
		case r < 0x20 || r == 0x7f || unicode.Is(unicode.Cc, r) || r == '\u2028' || r == '\u2029':
			// Quoted by strconv, less the quotes: "\n", "\x1b", "\a", "\u2028".
			q := strconv.QuoteRune(r)
			next = append(dst, q[1:len(q)-1]...)
		default:
			next = utf8.AppendRune(dst, r)
		}
		if len(next)-start > max {
			dst = fmt.Appendf(dst, "…[%d bytes cut]", len(entry)-i)
			break
		}
		dst = next
		i += size
	}
	return dst
}
