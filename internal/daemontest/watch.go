package daemontest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/redis/go-redis/v9"
)

// Watcher records every envelope published on the HemoStat channels, through
// a raw Redis PSUBSCRIBE independent of hemostatd's own bus code.
type Watcher struct {
	mu   sync.Mutex
	msgs []Message
	// grew is closed, and replaced, whenever a message arrives: every
	// waiter wakes, however many there are.
	grew chan struct{}
}

// Watch subscribes to every HemoStat channel of rdb and records what
// arrives until the test ends. Only what is published after Watch returns
// is recorded.
func Watch(t testing.TB, rdb *redis.Client) *Watcher {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ps := rdb.PSubscribe(ctx, protocol.Prefix+"*")
	if _, err := ps.Receive(ctx); err != nil {
		cancel()
		ps.Close()
		t.Fatalf("psubscribe %s*: %v", protocol.Prefix, err)
	}
	w := &Watcher{grew: make(chan struct{})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.record(ctx, ps)
	}()
	t.Cleanup(func() {
		cancel()
		ps.Close()
		<-done
	})
	return w
}

// record appends every message of ps until ctx is done. Receive errors
// other than the end are a connection going away, which go-redis
// reconnects.
func (w *Watcher) record(ctx context.Context, ps *redis.PubSub) {
	for {
		msg, err := ps.ReceiveMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			continue
		}
		m := Message{Channel: msg.Channel, Raw: msg.Payload, At: time.Now()}
		_ = json.Unmarshal([]byte(msg.Payload), &m.Env) // Env stays nil for junk
		w.mu.Lock()
		w.msgs = append(w.msgs, m)
		close(w.grew)
		w.grew = make(chan struct{})
		w.mu.Unlock()
	}
}

// Len is how many messages have arrived so far: a mark for AwaitAfter.
func (w *Watcher) Len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.msgs)
}

// since returns the messages from index mark on, and a channel closed when
// more arrive.
func (w *Watcher) since(mark int) ([]Message, <-chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.msgs[min(mark, len(w.msgs)):], w.grew
}

// Of returns the messages about container, in order of receipt.
func (w *Watcher) Of(container string) []Message {
	msgs, _ := w.since(0)
	var out []Message
	for _, m := range msgs {
		if m.Container() == container {
			out = append(out, m)
		}
	}
	return out
}

// Count returns how many messages of eventType about container arrived.
func (w *Watcher) Count(eventType, container string) int {
	n := 0
	for _, m := range w.Of(container) {
		if m.Type() == eventType {
			n++
		}
	}
	return n
}

// Trace is the summaries of the messages about container.
func (w *Watcher) Trace(container string) []string {
	var out []string
	for _, m := range w.Of(container) {
		out = append(out, m.Summary())
	}
	return out
}

// WaitN waits until n messages of eventType about container satisfy match
// and returns the first n, failing the test after timeout.
func (w *Watcher) WaitN(t testing.TB, eventType, container string, n int, match Match, timeout time.Duration) []Message {
	t.Helper()
	return w.wait(t, 0, n, container, eventType, func(m Message) bool {
		return m.Type() == eventType && (match == nil || match(m))
	}, timeout)
}

// WaitFor waits for the first message of eventType about container that
// satisfies match, failing the test after timeout.
func (w *Watcher) WaitFor(t testing.TB, eventType, container string, match Match, timeout time.Duration) Message {
	t.Helper()
	return w.WaitN(t, eventType, container, 1, match, timeout)[0]
}

// AwaitAfter waits for the first message of eventType about container,
// among those that arrived after mark (from Len), that satisfies match.
func (w *Watcher) AwaitAfter(t testing.TB, mark int, eventType, container string, match Match, timeout time.Duration) Message {
	t.Helper()
	return w.wait(t, mark, 1, container, eventType, func(m Message) bool {
		return m.Type() == eventType && (match == nil || match(m))
	}, timeout)[0]
}

// WaitAbout waits for the first message of any type about container that
// satisfies match, failing the test after timeout.
func (w *Watcher) WaitAbout(t testing.TB, container string, match Match, timeout time.Duration) Message {
	t.Helper()
	return w.wait(t, 0, 1, container, "envelope", func(m Message) bool {
		return match == nil || match(m)
	}, timeout)[0]
}

// wait returns the first n messages about container from mark on that
// satisfy match; what names them in the failure.
func (w *Watcher) wait(t testing.TB, mark, n int, container, what string, match Match, timeout time.Duration) []Message {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		msgs, grew := w.since(mark)
		var found []Message
		for _, m := range msgs {
			if m.Container() == container && match(m) {
				found = append(found, m)
			}
		}
		if len(found) >= n {
			return found[:n]
		}
		select {
		case <-grew:
		case <-deadline.C:
			t.Fatalf("%d of %d %s for %s within %s; envelopes about it:\n%s",
				len(found), n, what, container, timeout, w.Dump(container))
		}
	}
}

// Quiet waits until nothing about container has arrived for period, the
// call itself counting as the start of the silence, so that a trace
// compared afterwards is complete; it fails the test after limit.
func (w *Watcher) Quiet(t testing.TB, container string, period, limit time.Duration) {
	t.Helper()
	start := time.Now()
	end := start.Add(limit)
	for {
		last := start
		if msgs := w.Of(container); len(msgs) > 0 && msgs[len(msgs)-1].At.After(start) {
			last = msgs[len(msgs)-1].At
		}
		if time.Since(last) >= period {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("envelopes about %s still arriving after %s:\n%s", container, limit, w.Dump(container))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ExpectTrace fails the test unless the summaries of the envelopes about
// container are exactly want.
func (w *Watcher) ExpectTrace(t testing.TB, container string, want ...string) {
	t.Helper()
	got := w.Trace(container)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("envelopes about %s:\n  %s\nwant:\n  %s\nraw:\n%s", container,
			strings.Join(got, "\n  "), strings.Join(want, "\n  "), w.Dump(container))
	}
}

// Dump lists the envelopes about container, one a line with its time of
// receipt, for failure messages; when there are none it says how many
// envelopes about anything else arrived.
func (w *Watcher) Dump(container string) string {
	var b strings.Builder
	for _, m := range w.Of(container) {
		fmt.Fprintf(&b, "  %s %s %s\n", m.At.Format("15:04:05.000"), m.Channel, m.Raw)
	}
	if b.Len() == 0 {
		return fmt.Sprintf("  (none, of %d envelopes)\n", w.Len())
	}
	return b.String()
}
