package role

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hemostat/hemostat/sdk"
)

// Storm turns many incidents at once into one summary: when notifications
// about Containers or more different containers are sent within Window,
// the next ones are collected for Wait and sent as one summary listing
// them all. Containers 0 turns storm detection off.
type Storm struct {
	Containers int
	Window     time.Duration
	Wait       time.Duration
}

// summaryLines bounds the text of a summary; Summary lists every incident.
const summaryLines = 40

// grouper turns one alert route's notifications into messages people can
// act on. The first notification of an incident — a container, a kind of
// news and a host — goes out at once; more of the same within the window
// are counted and go out as one message with the count when the window
// ends ("3 more like this"), never one each. When many containers are
// reported at once (a storm), notifications are collected into one
// summary instead of a message each.
type grouper struct {
	window time.Duration
	storm  Storm
	now    func() time.Time
	// send delivers a message and calls done once it was delivered or
	// given up; it must not block for long.
	send func(n sdk.Notification, key string, done func())
	// held observes a notification kept back: "grouped" or "summarized".
	held func(how string)

	mu     sync.Mutex
	closed bool
	groups map[string]*group
	recent []arrival
	batch  *stormBatch
}

// group is one incident within its window.
type group struct {
	until        time.Time
	pending      int
	firstPending time.Time
	latest       sdk.Notification
	timer        *time.Timer
}

// arrival is one message sent (or summarized), for storm detection.
type arrival struct {
	at        time.Time
	container string
}

type stormBatch struct {
	start time.Time
	items []sdk.SummaryItem
	index map[string]int
	total int
	timer *time.Timer
	// held are the notifications' done functions, called once the
	// summary was delivered.
	held []func()
}

// release is the summary's done function.
func (b *stormBatch) release() {
	for _, done := range b.held {
		done()
	}
}

func newGrouper(window time.Duration, storm Storm, send func(sdk.Notification, string, func()), held func(string)) *grouper {
	if held == nil {
		held = func(string) {}
	}
	return &grouper{window: window, storm: storm, now: time.Now, send: send, held: held, groups: map[string]*group{}}
}

// groupKey names an incident: the same container, kind and host.
func groupKey(n sdk.Notification) string {
	return n.Host + "\x00" + n.Container + "\x00" + n.Kind
}

func containerKey(n sdk.Notification) string { return n.Host + "/" + n.Container }

// offer hands the grouper one notification. done is called once n is
// accounted for: delivered (or given up) as a message or in a storm
// summary, or counted into an incident already told — its count goes out
// with the window's end, and holding it for a whole window would keep a
// durable delivery unacknowledged for minutes.
func (g *grouper) offer(n sdk.Notification, done func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		done()
		return
	}
	now := g.now()
	key := groupKey(n)
	if g.window <= 0 {
		g.emit(n, key, now, done)
		return
	}
	if gr, ok := g.groups[key]; ok && now.Before(gr.until) {
		if gr.pending == 0 {
			gr.firstPending = n.Time
		}
		gr.pending++
		gr.latest = n
		g.held("grouped")
		done()
		return
	}
	gr := &group{until: now.Add(g.window)}
	gr.timer = time.AfterFunc(g.window, func() { g.windowEnd(key, gr) })
	g.groups[key] = gr
	g.emit(n, key, now, done)
}

// noop is the done function of a message nothing waits for.
func noop() {}

// windowEnd sends what was counted in an incident's window, as one
// message, and opens the next window; an incident with nothing new ends.
func (g *grouper) windowEnd(key string, gr *group) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed || g.groups[key] != gr {
		return
	}
	if gr.pending == 0 {
		delete(g.groups, key)
		return
	}
	n := gr.repeat()
	now := g.now()
	gr.until = now.Add(g.window)
	gr.timer = time.AfterFunc(g.window, func() { g.windowEnd(key, gr) })
	g.emit(n, key, now, noop)
}

// repeat is the message for what an incident's window counted, and clears
// the count.
func (gr *group) repeat() sdk.Notification {
	n := gr.latest
	n.Count, n.FirstTime = gr.pending, gr.firstPending
	gr.pending = 0
	return n
}

// forget drops an incident, so that the next notification of it goes out
// at once: used when a delivery failed and nobody was told.
func (g *grouper) forget(key string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if gr, ok := g.groups[key]; ok {
		gr.timer.Stop()
		delete(g.groups, key)
	}
}

// emit sends n, or adds it to the storm summary being collected. g.mu is
// held.
func (g *grouper) emit(n sdk.Notification, key string, now time.Time, done func()) {
	if g.storm.Containers <= 0 {
		g.send(n, key, done)
		return
	}
	g.recent = append(g.recent, arrival{at: now, container: containerKey(n)})
	cut := 0
	for cut < len(g.recent) && now.Sub(g.recent[cut].at) > g.storm.Window {
		cut++
	}
	g.recent = g.recent[cut:]
	if g.batch == nil {
		if g.distinctRecent() < g.storm.Containers {
			g.send(n, key, done)
			return
		}
		b := &stormBatch{start: now, index: map[string]int{}}
		b.timer = time.AfterFunc(g.storm.Wait, func() { g.flushStorm(b) })
		g.batch = b
	}
	g.batch.add(n, key)
	g.batch.held = append(g.batch.held, done)
	g.held("summarized")
}

func (g *grouper) distinctRecent() int {
	seen := make(map[string]struct{}, len(g.recent))
	for _, a := range g.recent {
		seen[a.container] = struct{}{}
	}
	return len(seen)
}

func (b *stormBatch) add(n sdk.Notification, key string) {
	count := max(n.Count, 1)
	b.total += count
	if i, ok := b.index[key]; ok {
		it := &b.items[i]
		it.Count += count
		it.Title = n.Title
		if AtLeast(n.Severity, it.Severity) {
			it.Severity = n.Severity
		}
		return
	}
	b.index[key] = len(b.items)
	b.items = append(b.items, sdk.SummaryItem{
		Container: n.Container, Host: n.Host, Kind: n.Kind, Severity: n.Severity, Title: n.Title, Count: count,
	})
}

func (g *grouper) flushStorm(b *stormBatch) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.batch != b {
		return
	}
	g.batch = nil
	g.send(b.summary(g.now()), "", b.release)
}

// summary is the one message a storm becomes.
func (b *stormBatch) summary(now time.Time) sdk.Notification {
	containers := map[string]struct{}{}
	severity := sdk.SeverityInfo
	kinds := map[string]int{}
	for _, it := range b.items {
		containers[it.Host+"/"+it.Container] = struct{}{}
		if AtLeast(it.Severity, severity) {
			severity = it.Severity
		}
		kinds[it.Kind] += it.Count
	}
	var lines []string
	for i, it := range b.items {
		if i == summaryLines {
			lines = append(lines, fmt.Sprintf("… and %d more", len(b.items)-summaryLines))
			break
		}
		line := it.Title
		if it.Count > 1 {
			line += fmt.Sprintf(" (×%d)", it.Count)
		}
		lines = append(lines, line)
	}
	return sdk.Notification{
		Type: sdk.TypeSummary, Kind: sdk.KindStorm, Severity: severity,
		Title: fmt.Sprintf("Storm: %d containers, %d notifications in %s", len(containers), b.total,
			now.Sub(b.start).Round(time.Second)),
		Text: strings.Join(lines, "\n"), Time: now, FirstTime: b.start, Count: b.total,
		Summary: b.items, Figures: kindFigures(kinds),
	}
}

// kindFigures counts a summary's notifications by kind, in the order of
// sdk.Kinds.
func kindFigures(kinds map[string]int) []sdk.Figure {
	var out []sdk.Figure
	for _, k := range sdk.Kinds {
		if c := kinds[k]; c > 0 {
			out = append(out, sdk.Figure{Name: k, Value: fmt.Sprint(c)})
		}
	}
	return out
}

// close sends what is still held — the counts of open windows and the
// storm being collected — and stops the timers.
func (g *grouper) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return
	}
	g.closed = true
	now := g.now()
	for key, gr := range g.groups {
		gr.timer.Stop()
		if gr.pending > 0 {
			g.emit(gr.repeat(), key, now, noop)
		}
	}
	g.groups = map[string]*group{}
	if b := g.batch; b != nil {
		b.timer.Stop()
		g.batch = nil
		g.send(b.summary(now), "", b.release)
	}
}
