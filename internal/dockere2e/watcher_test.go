package dockere2e

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/redis/go-redis/v9"
)

// message is one envelope seen on a channel, with its time of receipt.
type message struct {
	Channel string
	Raw     string
	Env     map[string]any
	At      time.Time
}

func (m message) typ() string { return strings.TrimPrefix(m.Channel, protocol.Prefix) }

func (m message) data() map[string]any {
	d, _ := m.Env["data"].(map[string]any)
	return d
}

func (m message) container() string {
	s, _ := m.data()["container"].(string)
	return s
}

func (m message) result() map[string]any {
	r, _ := m.data()["result"].(map[string]any)
	return r
}

func (m message) issues() []string {
	var out []string
	list, _ := m.data()["issues"].([]any)
	for _, is := range list {
		s, _ := is.(string)
		out = append(out, s)
	}
	return out
}

// str returns a string at a path of keys below data.
func (m message) str(path ...string) string {
	var cur any = m.data()
	for _, k := range path {
		obj, _ := cur.(map[string]any)
		cur = obj[k]
	}
	s, _ := cur.(string)
	return s
}

// figures hides the numbers of resource issues, which vary run to run.
var figures = regexp.MustCompile(`\d+(\.\d+)?%`)

// summary is one line per envelope, what a scenario's exact expectations
// are written in:
//
//	health_alert Exited with code 3
//	remediation_needed restart
//	remediation_complete restart success
//	false_alarm
//	escalation circuit_breaker restart
func (m message) summary() string {
	switch m.typ() {
	case protocol.TypeHealthAlert:
		return m.typ() + " " + figures.ReplaceAllString(strings.Join(m.issues(), "; "), "N%")
	case protocol.TypeRemediationNeeded:
		return m.typ() + " " + m.str("action")
	case protocol.TypeRemediationComplete:
		return m.typ() + " " + m.str("action") + " " + m.str("result", "status")
	case protocol.TypeEscalation:
		return m.typ() + " " + m.str("source") + " " + m.str("action")
	}
	return m.typ()
}

// watcher is a raw Redis subscriber on every HemoStat channel.
type watcher struct {
	mu   sync.Mutex
	msgs []message
	more chan struct{}
}

func watch(t testing.TB, rdb *redis.Client) *watcher {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ps := rdb.PSubscribe(ctx, protocol.Prefix+"*")
	if _, err := ps.Receive(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	w := &watcher{more: make(chan struct{}, 1)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			msg, err := ps.ReceiveMessage(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				continue
			}
			at := time.Now()
			var env map[string]any
			_ = json.Unmarshal([]byte(msg.Payload), &env)
			w.mu.Lock()
			w.msgs = append(w.msgs, message{Channel: msg.Channel, Raw: msg.Payload, Env: env, At: at})
			w.mu.Unlock()
			select {
			case w.more <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		ps.Close()
		<-done
	})
	return w
}

// of returns the messages about container, in order of receipt.
func (w *watcher) of(container string) []message {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []message
	for _, m := range w.msgs {
		if m.container() == container {
			out = append(out, m)
		}
	}
	return out
}

// trace is the summaries of the messages about container.
func (w *watcher) trace(container string) []string {
	var out []string
	for _, m := range w.of(container) {
		out = append(out, m.summary())
	}
	return out
}

// waitN waits until n messages of eventType about container satisfy match
// (nil matches all) and returns them, failing the test after timeout.
func (w *watcher) waitN(t testing.TB, eventType, container string, n int, match func(message) bool, timeout time.Duration) []message {
	t.Helper()
	deadline := time.After(timeout)
	for {
		var found []message
		for _, m := range w.of(container) {
			if m.typ() == eventType && (match == nil || match(m)) {
				found = append(found, m)
			}
		}
		if len(found) >= n {
			return found[:n]
		}
		select {
		case <-w.more:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("%d of %d %s for %s within %s; envelopes about it:\n%s",
				len(found), n, eventType, container, timeout, w.dump(container))
		}
	}
}

// waitFor waits for the first message of eventType about container that
// satisfies match.
func (w *watcher) waitFor(t testing.TB, eventType, container string, match func(message) bool, timeout time.Duration) message {
	t.Helper()
	return w.waitN(t, eventType, container, 1, match, timeout)[0]
}

// quiet waits until nothing about container has arrived for period, the
// call itself counting as the start of the silence, so that a trace
// compared afterwards is complete; it gives up after limit.
func (w *watcher) quiet(t testing.TB, container string, period, limit time.Duration) {
	t.Helper()
	start := time.Now()
	end := start.Add(limit)
	for {
		last := start
		if msgs := w.of(container); len(msgs) > 0 && msgs[len(msgs)-1].At.After(start) {
			last = msgs[len(msgs)-1].At
		}
		if time.Since(last) >= period {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("envelopes about %s still arriving after %s:\n%s", container, limit, w.dump(container))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (w *watcher) dump(container string) string {
	var b strings.Builder
	for _, m := range w.of(container) {
		fmt.Fprintf(&b, "  %s %s %s\n", m.At.Format("15:04:05.000"), m.Channel, m.Raw)
	}
	if b.Len() == 0 {
		return "  (none)\n"
	}
	return b.String()
}

// expectTrace compares the envelopes about container with want, exactly.
func (w *watcher) expectTrace(t testing.TB, container string, want ...string) {
	t.Helper()
	got := w.trace(container)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("envelopes about %s:\n  %s\nwant:\n  %s\nraw:\n%s", container,
			strings.Join(got, "\n  "), strings.Join(want, "\n  "), w.dump(container))
	}
}

func statusIs(status string) func(message) bool {
	return func(m message) bool { return m.str("result", "status") == status }
}

// len is how many messages have arrived so far: a mark for awaitAfter.
func (w *watcher) len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.msgs)
}

// awaitAfter waits for the first message of eventType about container,
// among those that arrived after mark, that satisfies match.
func (w *watcher) awaitAfter(t testing.TB, mark int, eventType, container string, match func(message) bool, timeout time.Duration) message {
	t.Helper()
	deadline := time.After(timeout)
	for {
		w.mu.Lock()
		msgs := w.msgs[mark:]
		w.mu.Unlock()
		for _, m := range msgs {
			if m.typ() == eventType && m.container() == container && match(m) {
				return m
			}
		}
		select {
		case <-w.more:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatalf("no %s for %s within %s; envelopes about it:\n%s", eventType, container, timeout, w.dump(container))
		}
	}
}
