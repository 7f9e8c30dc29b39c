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
// reports and keeps the last lines; the engine closes the stream once the
// exit's output is all written, which is before it sends the die, so the
// tail is complete when the die is handled.

const (
	// followEndWait bounds the wait, at a die, for the followed stream to
	// end (the engine sends the die after closing the log, so it has
	// usually ended already); past it the tail is read as before.
	followEndWait = 100 * time.Millisecond
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
	r := &logRing{n: f.n, cancel: cancel, done: make(chan struct{})}
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
		t := time.NewTimer(followEndWait)
		defer t.Stop()
		select {
		case <-r.done:
		case <-t.C:
			return "", false
		}
	}
	return r.text(), true
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
