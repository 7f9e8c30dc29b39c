package monitor

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/hemostat/hemostat/internal/testenv"
)

// TestFollowedTailIsCompleteAtExit: the followed stream of a container
// that writes more lines than are kept and then exits has ended by the
// time the container is seen stopped, and holds the last lines in order,
// the final unterminated one included.
func TestFollowedTailIsCompleteAtExit(t *testing.T) {
	cli := testenv.Docker(t)
	var args []string
	for i := range 12 {
		args = append(args, "--log", fmt.Sprintf("line %d", i))
	}
	_, id := runSickapp(t, cli, container.Config{}, nil, append(args, "--exit", "3", "--after", "500ms")...)
	f := newLogFollowers(cli, 5)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.follow(ctx, id, false)
	f.follow(ctx, id, false) // a second start of the same run changes nothing
	waitExited(t, cli, id)
	// Seen stopped through another request: the stream ended before the
	// engine answered, or ends within followEndWait.
	text, ok := f.tail(id, true)
	if !ok {
		t.Fatalf("the followed stream had not ended %s after the container stopped", followEndWait)
	}
	want := "line 7\nline 8\nline 9\nline 10\nline 11\n"
	if text != want {
		t.Errorf("followed tail = %q, want %q", text, want)
	}

	f.forget(id)
	if _, ok := f.tail(id, false); ok {
		t.Errorf("a forgotten container still has a tail")
	}
}

// TestRingWriterSplitsLines: writes that cut lines anywhere, on two
// streams, come out as whole lines, the oldest dropped beyond n, a runaway
// line bounded.
func TestRingWriterSplitsLines(t *testing.T) {
	r := &logRing{n: 3, done: make(chan struct{})}
	out, errw := ringWriter{r, 0}, ringWriter{r, 1}
	out.Write([]byte("a1\na"))
	errw.Write([]byte("e1"))
	out.Write([]byte("2\n"))
	errw.Write([]byte("\n" + strings.Repeat("x", 2*maxFollowedLineBytes) + "\nb"))
	got := strings.Split(strings.TrimSuffix(r.text(), "\n"), "\n")
	if len(got) != 3 || got[0] != "a2" || got[1] != "e1" || len(got[2]) != maxFollowedLineBytes {
		t.Errorf("lines = %.40q (lengths %d), want a2, e1 and %d x's", got, len(got), maxFollowedLineBytes)
	}
}
