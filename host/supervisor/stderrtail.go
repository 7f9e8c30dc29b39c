package supervisor

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
)

// Bounds of what is kept of a plugin's stderr: a plugin that floods it
// must not grow the host.
const (
	tailLines   = 16  // last lines kept
	tailLineLen = 300 // bytes kept of one line
	crashLines  = 4   // lines kept of a panic's message
	noteLines   = 3   // last lines quoted when there was no panic
)

// stderrTail keeps what one plugin process last wrote to stderr, fed by
// go-plugin (ClientConfig.Stderr), so that a process that dies is
// explained by its own last words — a Go panic, a fatal error, a last log
// line — instead of by what go-plugin or gRPC saw of the death ("Failed to
// read any lines from plugin's stdout … not compiled for this
// architecture", "error reading from server: EOF"). A panic's message is
// kept apart from the ring: its stack trace would push it out.
type stderrTail struct {
	mu      sync.Mutex
	partial []byte   // go-plugin writes a line and its newline separately
	lines   []string // the last tailLines lines, oldest first
	// crash is the first panic or fatal error: its message lines and the
	// function it happened in.
	crash []string
	// inCrash: lines are being added to crash until the stack trace's
	// first frame.
	inCrash bool
	// frameNext: the next line is the trace's first frame.
	frameNext bool
}

// Write implements io.Writer; it never fails.
func (t *stderrTail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(b)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			if room := tailLineLen - len(t.partial); room > 0 {
				t.partial = append(t.partial, b[:min(len(b), room)]...)
			}
			break
		}
		if room := tailLineLen - len(t.partial); room > 0 {
			t.partial = append(t.partial, b[:min(i, room)]...)
		}
		t.line(strings.TrimRight(string(t.partial), "\r"))
		t.partial = t.partial[:0]
		b = b[i+1:]
	}
	return n, nil
}

// line takes one complete line.
func (t *stderrTail) line(s string) {
	if strings.TrimSpace(s) == "" {
		return
	}
	if len(t.lines) == tailLines {
		copy(t.lines, t.lines[1:])
		t.lines = t.lines[:tailLines-1]
	}
	t.lines = append(t.lines, s)
	switch {
	case t.crash == nil && (strings.HasPrefix(s, "panic: ") || strings.HasPrefix(s, "fatal error: ")):
		t.crash, t.inCrash = []string{s}, true
	case !t.inCrash:
	case t.frameNext:
		// "main.(*plugin).Configure(0xc000010000, ...)": the function,
		// without its argument words.
		fn := strings.TrimSpace(s)
		if i := strings.LastIndexByte(fn, '('); i > 0 && strings.HasSuffix(fn, ")") {
			fn = fn[:i]
		}
		t.crash = append(t.crash, "in "+fn)
		t.inCrash, t.frameNext = false, false
	case strings.HasPrefix(s, "goroutine "):
		t.frameNext = true
	case strings.HasPrefix(s, "[signal "):
	case len(t.crash) < crashLines:
		// A message of several lines, or a panic raised while panicking.
		t.crash = append(t.crash, strings.TrimSpace(s))
	}
}

// note explains a process that has ended, once go-plugin has read all of
// its stderr (after Client.Kill): its panic and the exit status, or, for a
// process that exited by itself without one, its last lines. "" when
// stderr says nothing of use, or the process may have been killed by the
// host rather than have died.
func (t *stderrTail) note(state *os.ProcessState) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	status := ""
	if state != nil {
		status = " (" + state.String() + ")"
	}
	if t.crash != nil {
		return "the plugin crashed: " + strings.Join(t.crash, "; ") + status
	}
	// A signal may be the host's own kill; an exit code is the plugin's
	// own doing.
	if state == nil || !state.Exited() || len(t.lines) == 0 {
		return ""
	}
	last := t.lines[max(0, len(t.lines)-noteLines):]
	quoted := make([]string, len(last))
	for i, l := range last {
		quoted[i] = logMessage(l)
	}
	return fmt.Sprintf("the plugin exited%s; its last words on stderr: %s", status, strings.Join(quoted, " | "))
}

// logMessage renders a JSON log line of sdk.Logger as its level, message
// and error; any other line as it is.
func logMessage(line string) string {
	var entry map[string]any
	if !strings.HasPrefix(line, "{") || json.Unmarshal([]byte(line), &entry) != nil {
		return line
	}
	msg, _ := entry["@message"].(string)
	if msg == "" {
		return line
	}
	if level, _ := entry["@level"].(string); level != "" {
		msg = "[" + level + "] " + msg
	}
	if err, ok := entry["error"]; ok {
		msg += fmt.Sprintf(": %v", err)
	}
	return msg
}

// diedError is a start or call that failed because the plugin's process
// died: it reads as the plugin's own last words and wraps what the
// transport saw, for errors.Is.
type diedError struct {
	prefix, note string
	err          error
}

func (e *diedError) Error() string { return e.prefix + e.note }
func (e *diedError) Unwrap() error { return e.err }
