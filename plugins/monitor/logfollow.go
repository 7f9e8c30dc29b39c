package monitor

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
)

// The log tail of a die used to be read when the die arrived, and the
// engine answers a log request on a container only once it has finished
// cleaning up after the exit: ≈8 ms, most of the time from the die to its
// alert. Instead, the monitor follows the logs of each running container it
// reports and keeps the last lines. The engine has written the exit's
// output to its log before it sends the die, and a followed stream carries
// a line within a millisecond of its writing; but the stream's own end can
// trail the die by 9–23 ms (half the dies on a quiet Docker 20.10 engine).
// So a die waits for the end only briefly when the stream has been
// following a while: in 20 of 20 crashes that printed their last line
// right before exiting, the ring held it when the die was handled.

const (
	// followEndWait bounds the wait, at a die, for a stream not trusted
	// yet (it may not have sent the lines written before it was opened);
	// past it the tail is read from the engine.
	followEndWait = 100 * time.Millisecond
	// dieTailWait bounds the wait, at a die, for a trusted stream (see
	// trusted): past it the ring's lines are the tail.
	// It only covers a line on its way at that very moment.
	dieTailWait = 500 * time.Microsecond
	// followTrusted is how long a stream must have been open before its
	// ring is trusted to hold what the container wrote.
	followTrusted = 20 * time.Millisecond
	// silentTrusted is how long a follow may go unanswered before the
	// container is trusted to have written nothing: the engine answers
	// with the first line it has to send, so a silent container's stream
	// is never answered until it ends.
	silentTrusted = time.Second
	// maxFollowedLineBytes bounds one kept line. It is larger than what a
	// sample carries (maxLogLineBytes): the redaction runs on the lines as
	// written, before they are cut.
	maxFollowedLineBytes = 16 << 10
)

// logFollowers are the followed log streams, one per running container.
type logFollowers struct {
	cli *client.Client
	n   int

	mu   sync.Mutex
	byID map[string]*logRing
}

// newLogFollowers returns nil, which follows nothing, when no tail is
// wanted (n = 0).
func newLogFollowers(cli *client.Client, n int) *logFollowers {
	if n <= 0 {
		return nil
	}
	return &logFollowers{cli: cli, n: n, byID: map[string]*logRing{}}
}

// logRing is one container's followed stream: its last n lines, stdout
// and stderr interleaved as they arrive.
type logRing struct {
	n      int
	cancel context.CancelFunc
	done   chan struct{} // closed when the stream has ended

	mu      sync.Mutex
	lines   []string
	partial [2]strings.Builder // an unfinished line per stream
	asked   time.Time          // when the follow was asked for; set once
	opened  time.Time          // when the engine answered it
}

// follow starts following id's logs unless a stream of it is open. The
// stream starts with the last n lines already written, as the tail read at
// a die would; it ends with ctx, the container's exit or stop.
func (f *logFollowers) follow(ctx context.Context, id string, tty bool) {
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if r := f.byID[id]; r != nil {
		select {
		case <-r.done:
		default:
			return
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	r := &logRing{n: f.n, cancel: cancel, done: make(chan struct{}), asked: time.Now()}
	f.byID[id] = r
	go r.read(ctx, f.cli, id, tty)
}

// forget stops following id and drops its lines (a removed container).
func (f *logFollowers) forget(id string) {
	if f == nil {
		return
	}
	f.mu.Lock()
	r := f.byID[id]
	delete(f.byID, id)
	f.mu.Unlock()
	if r != nil {
		r.cancel()
	}
}

// tail returns id's last lines, joined, and whether there is a followed
// stream to take them from. ended asks for the stream to be over first
// (a die), waiting up to followEndWait for it.
func (f *logFollowers) tail(id string, ended bool) (string, bool) {
	if f == nil {
		return "", false
	}
	f.mu.Lock()
	r := f.byID[id]
	f.mu.Unlock()
	if r == nil {
		return "", false
	}
	if ended {
		trusted := r.trusted()
		wait := followEndWait
		if trusted {
			wait = dieTailWait
		}
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-r.done:
		case <-t.C:
			if !trusted {
				return "", false
			}
		}
	}
	return r.text(), true
}

// trusted says whether the ring holds what the container wrote, but for
// a line on its way: its stream was answered followTrusted ago, or asked
// for silentTrusted ago and never answered (nothing written).
func (r *logRing) trusted() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.opened.IsZero() {
		return time.Since(r.asked) >= silentTrusted
	}
	return time.Since(r.opened) >= followTrusted
}

func (r *logRing) read(ctx context.Context, cli *client.Client, id string, tty bool) {
	defer close(r.done)
	defer r.cancel()
	rc, err := cli.ContainerLogs(ctx, id, container.LogsOptions{
		ShowStdout: true, ShowStderr: true, Follow: true, Tail: strconv.Itoa(r.n),
	})
	if err != nil {
		return
	}
	defer rc.Close()
	r.mu.Lock()
	r.opened = time.Now()
	r.mu.Unlock()
	if tty {
		_, _ = io.Copy(ringWriter{r, 0}, bufio.NewReader(rc))
	} else {
		// Without a TTY the engine multiplexes both streams into frames.
		_, _ = stdcopy.StdCopy(ringWriter{r, 0}, ringWriter{r, 1}, rc)
	}
	r.mu.Lock()
	for i := range r.partial {
		if r.partial[i].Len() > 0 {
			r.push(r.partial[i].String())
			r.partial[i].Reset()
		}
	}
	r.mu.Unlock()
}

// text is the kept lines, one per line, ready for tailLines.
func (r *logRing) text() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, l := range r.lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

// push keeps line, dropping the oldest beyond n. Called with mu held.
func (r *logRing) push(line string) {
	if len(r.lines) == r.n {
		copy(r.lines, r.lines[1:])
		r.lines = r.lines[:r.n-1]
	}
	r.lines = append(r.lines, line)
}

// ringWriter splits one stream's output into lines for its ring.
type ringWriter struct {
	r      *logRing
	stream int
}

func (w ringWriter) Write(p []byte) (int, error) {
	w.r.mu.Lock()
	defer w.r.mu.Unlock()
	part := &w.r.partial[w.stream]
	rest := p
	for len(rest) > 0 {
		i := bytes.IndexByte(rest, '\n')
		chunk := rest
		if i >= 0 {
			chunk = rest[:i]
		}
		if room := maxFollowedLineBytes - part.Len(); room > 0 {
			part.Write(chunk[:min(len(chunk), room)])
		}
		if i < 0 {
			break
		}
		w.r.push(part.String())
		part.Reset()
		rest = rest[i+1:]
	}
	return len(p), nil
}
