package dockerresponder

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"
	"github.com/hashicorp/go-hclog"
	"github.com/hemostat/hemostat/sdk"
)

// Another healer on the same engine (docker-autoheal, a second hemostatd
// with its own Redis, a cron job running docker restart) double-restarts
// every container hemostatd heals, and nothing in either tool's output
// says so. The engine's events do: every restart, stop and kill of a
// container is an event, but no event says which client asked. This
// responder knows which engine calls it made itself, so it follows the
// container's events from foreignWindow before each of its restarts,
// starts, stops and kills until foreignWindow after the last one returned,
// takes away the events its own calls explain, and reports the rest: one
// warning per container per foreignRemind in the log, and every time a
// foreign_action event, which hemostatd counts in
// hemostat_foreign_actions_total.
const (
	// foreignWindow is how long before an engine call of ours began, and
	// after it returned, another client's operation on the container is
	// taken for another healer's. A healer driven by the engine's events
	// acts within milliseconds of ours, docker-autoheal within its 5 s
	// poll; a person restarting a container minutes apart is not one.
	foreignWindow = 5 * time.Second
	// foreignSkew is how far outside one of our calls an event may be
	// timed and still be that call's own: the engine's clock and ours.
	foreignSkew = time.Second
	// foreignRemind is how often the warning is logged again for one
	// container; the metric and the events count every time.
	foreignRemind = 10 * time.Minute
)

// Engine event actions this file follows.
const (
	evRestart = "restart"
	evStop    = "stop"
	evKill    = "kill"
	evDestroy = "destroy"
)

// ownBudget is how many events of each kind one of our calls makes: a
// restart of a running container is kill, die, stop, start, restart (and
// a second kill when the stop timeout runs out); of a stopped one only
// start, restart — so it explains no stop or kill of another client's.
// Die and start are not followed: a crash and a restart policy make them
// without any client.
func ownBudget(action string, running bool) map[string]int {
	switch action {
	case sdk.ActionRestart:
		if running {
			return map[string]int{evRestart: 1, evStop: 1, evKill: 2}
		}
		return map[string]int{evRestart: 1}
	case sdk.ActionStop:
		return map[string]int{evStop: 1, evKill: 2}
	case sdk.ActionKill:
		return map[string]int{evKill: 1}
	}
	return nil
}

// followed lists the actions whose calls are followed.
var followed = map[string]bool{sdk.ActionRestart: true, sdk.ActionStop: true, sdk.ActionKill: true, sdk.ActionStart: true}

// ownCall is one engine call this responder made on a container.
type ownCall struct {
	action string
	// running is whether the container ran when the call began.
	running      bool
	began, ended time.Time
}

// engineEvent is one followed event of the engine about a container.
type engineEvent struct {
	action string
	at     time.Time
}

// distance is how far e lies outside c's interval, 0 inside.
func (c ownCall) distance(at time.Time) time.Duration {
	switch {
	case at.Before(c.began):
		return c.began.Sub(at)
	case at.After(c.ended):
		return at.Sub(c.ended)
	}
	return 0
}

// unexplained returns the events of evs our calls do not explain. Each
// call explains at most its budget of each kind, the events nearest to it
// first and none further than foreignSkew, so another client's restart
// 0.4 s before ours is left over while ours, inside our call, is taken.
func unexplained(evs []engineEvent, calls []ownCall) []engineEvent {
	type pair struct {
		ev, call int
		dist     time.Duration
	}
	var pairs []pair
	for i, e := range evs {
		for j, c := range calls {
			if d := c.distance(e.at); d <= foreignSkew && ownBudget(c.action, c.running)[e.action] > 0 {
				pairs = append(pairs, pair{i, j, d})
			}
		}
	}
	// Nearest first; insertion sort keeps equal distances in event order.
	for i := 1; i < len(pairs); i++ {
		for k := i; k > 0 && pairs[k].dist < pairs[k-1].dist; k-- {
			pairs[k], pairs[k-1] = pairs[k-1], pairs[k]
		}
	}
	left := make([]map[string]int, len(calls))
	for j, c := range calls {
		left[j] = map[string]int{}
		for kind, n := range ownBudget(c.action, c.running) {
			left[j][kind] = n
		}
	}
	explained := make([]bool, len(evs))
	for _, p := range pairs {
		kind := evs[p.ev].action
		if explained[p.ev] || left[p.call][kind] == 0 {
			continue
		}
		explained[p.ev] = true
		left[p.call][kind]--
	}
	var rest []engineEvent
	for i, e := range evs {
		if !explained[i] {
			rest = append(rest, e)
		}
	}
	return rest
}

// foreignOps turns unexplained events into operations: a restart is one
// whatever it stopped on the way, a stop one with its kills, a kill one.
// It returns the main kind (restart before stop before kill), how many
// operations, and the event that stands for them.
func foreignOps(rest []engineEvent) (kind string, count int, first engineEvent) {
	n := map[string]int{}
	firstOf := map[string]engineEvent{}
	for _, e := range rest {
		if n[e.action] == 0 {
			firstOf[e.action] = e
		}
		n[e.action]++
	}
	restarts := n[evRestart]
	stops := max(0, n[evStop]-restarts)
	kills := max(0, n[evKill]-2*(restarts+stops))
	count = restarts + stops + kills
	for _, k := range []string{evRestart, evStop, evKill} {
		if n[k] > 0 {
			return k, count, firstOf[k]
		}
	}
	return "", 0, engineEvent{}
}

// foreignWatch follows containers around this responder's own calls.
type foreignWatch struct {
	mu       sync.Mutex
	log      hclog.Logger
	host     sdk.Host
	sessions map[string]*foreignSession // by container ID
	calls    map[string][]ownCall       // by container name, the last 2 windows
	warned   map[string]time.Time       // by container name
}

func newForeignWatch(log hclog.Logger) *foreignWatch {
	return &foreignWatch{
		log:      log,
		sessions: map[string]*foreignSession{},
		calls:    map[string][]ownCall{},
		warned:   map[string]time.Time{},
	}
}

func (w *foreignWatch) setHost(h sdk.Host) {
	if w == nil {
		return
	}
	w.mu.Lock()
	w.host = h
	w.mu.Unlock()
}

// foreignSession is the following of one container's events while our
// calls on it are in progress or less than foreignWindow old.
type foreignSession struct {
	id, name string
	cancel   context.CancelFunc
	pending  int // our calls in progress
	acted    bool
	timer    *time.Timer
	events   []engineEvent
	removed  bool
	lost     error
}

// foreignCall is one of our actions in progress; end records it.
type foreignCall struct {
	w       *foreignWatch
	s       *foreignSession
	action  string
	running bool
	began   time.Time
}

// begin starts following the container id before an action that may
// restart, start, stop or kill it. It costs the action nothing: the
// events stream opens in its own goroutine and asks the engine for the
// events since foreignWindow ago, so what happens while it opens is seen.
// running is whether the container runs as the action begins.
func (w *foreignWatch) begin(cli *client.Client, id, name string, running bool, req sdk.RemediateRequest) *foreignCall {
	if !followed[req.Action] || req.DryRun || w == nil {
		return nil
	}
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.sessions[id]
	if s == nil {
		ctx, cancel := context.WithCancel(context.Background())
		s = &foreignSession{id: id, name: name, cancel: cancel}
		w.sessions[id] = s
		go w.follow(ctx, cli, s, now.Add(-foreignWindow))
	}
	s.pending++
	return &foreignCall{w: w, s: s, action: req.Action, running: running, began: now}
}

// end records the call when res says the engine was asked to act, and
// the names of the dependents the action restarted, then arms the end of
// the session.
func (fc *foreignCall) end(res sdk.Result) {
	if fc == nil {
		return
	}
	w, s := fc.w, fc.s
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	s.pending--
	if res.Status == sdk.StatusSuccess || res.Status == sdk.StatusFailed {
		s.acted = true
		w.record(s.name, ownCall{action: fc.action, running: fc.running, began: fc.began, ended: now})
		for _, dep := range strings.Split(res.Details["dependents_restarted"], ",") {
			if dep != "" {
				// Dependents are restarted only while they run.
				w.record(dep, ownCall{action: sdk.ActionRestart, running: true, began: fc.began, ended: now})
			}
		}
	}
	if s.pending > 0 {
		return
	}
	if !s.acted {
		// Nothing was done: nothing to compare another client's work to.
		s.cancel()
		delete(w.sessions, s.id)
		return
	}
	if s.timer == nil {
		s.timer = time.AfterFunc(foreignWindow, func() { w.close(s) })
	} else {
		s.timer.Reset(foreignWindow)
	}
}

// record keeps a call of ours on name, and forgets the ones no window
// reaches any more.
func (w *foreignWatch) record(name string, c ownCall) {
	keep := w.calls[name][:0]
	for _, old := range w.calls[name] {
		if c.began.Sub(old.ended) < 2*foreignWindow+foreignSkew {
			keep = append(keep, old)
		}
	}
	w.calls[name] = append(keep, c)
}

// follow collects the container's restart, stop, kill and destroy events
// until ctx ends.
func (w *foreignWatch) follow(ctx context.Context, cli *client.Client, s *foreignSession, since time.Time) {
	f := filters.NewArgs(
		filters.Arg("type", string(events.ContainerEventType)),
		filters.Arg("container", s.id),
	)
	for _, a := range []string{evRestart, evStop, evKill, evDestroy} {
		f.Add("event", a)
	}
	msgs, errs := cli.Events(ctx, events.ListOptions{Since: unixNano(since), Filters: f})
	for {
		select {
		case m := <-msgs:
			w.mu.Lock()
			if m.Action == evDestroy {
				s.removed = true
			} else {
				s.events = append(s.events, engineEvent{action: string(m.Action), at: time.Unix(0, m.TimeNano)})
			}
			w.mu.Unlock()
		case err := <-errs:
			if ctx.Err() == nil {
				w.mu.Lock()
				s.lost = err
				w.mu.Unlock()
			}
			return
		}
	}
}

func unixNano(t time.Time) string {
	return fmt.Sprintf("%d.%09d", t.Unix(), t.Nanosecond())
}

// close ends a session foreignWindow after our last call returned and
// reports what our calls do not explain.
func (w *foreignWatch) close(s *foreignSession) {
	w.mu.Lock()
	if s.pending > 0 || w.sessions[s.id] != s {
		// A call began again after the timer fired; its end re-arms it.
		w.mu.Unlock()
		return
	}
	delete(w.sessions, s.id)
	s.cancel()
	evs, calls, removed, lost := append([]engineEvent(nil), s.events...), w.calls[s.name], s.removed, s.lost
	host := w.host
	w.mu.Unlock()

	if lost != nil {
		w.log.Debug("engine events of a container acted on were cut short; another client's actions may go unseen", "container", s.name, "error", lost)
	}
	if removed {
		// Someone removed it: that is a person's or a deployment's work,
		// and docker rm -f's kill is not another healer's.
		return
	}
	kind, count, first := foreignOps(unexplained(evs, calls))
	if count == 0 {
		return
	}
	ours, offset := nearest(first.at, calls)
	fa := sdk.ForeignAction{
		Container: s.name, ContainerID: shortID(s.id), Action: kind, Count: count,
		Ours: ours.action, OffsetSeconds: roundCenti(offset.Seconds()), At: first.at,
	}
	fa.Message = foreignMessage(fa)
	w.warn(s.name, fa)
	if host != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := host.PublishEvent(ctx, sdk.EventForeignAction, fa); err != nil {
			w.log.Debug("publish foreign_action", "container", s.name, "error", err)
		}
	}
}

// warn logs fa once per container per foreignRemind.
func (w *foreignWatch) warn(name string, fa sdk.ForeignAction) {
	now := time.Now()
	w.mu.Lock()
	last, seen := w.warned[name]
	fresh := !seen || now.Sub(last) >= foreignRemind
	if fresh {
		w.warned[name] = now
	}
	w.mu.Unlock()
	if !fresh {
		w.log.Debug(fa.Message, "container", name, "repeat", true)
		return
	}
	w.log.Warn(fa.Message, "container", name, "foreign_action", fa.Action, "count", fa.Count)
}

// nearest is the call of ours nearest to at, and at's offset from it:
// negative before the call began, 0 inside, positive after it returned.
func nearest(at time.Time, calls []ownCall) (ownCall, time.Duration) {
	var best ownCall
	bestDist := time.Duration(math.MaxInt64)
	for _, c := range calls {
		if d := c.distance(at); d < bestDist {
			best, bestDist = c, d
		}
	}
	switch {
	case at.Before(best.began):
		return best, at.Sub(best.began)
	case at.After(best.ended):
		return best, at.Sub(best.ended)
	}
	return best, 0
}

func roundCenti(f float64) float64 { return math.Round(f*100) / 100 }

// foreignMessage is the warning: what another client did, when against
// our own action, and what to do about it.
func foreignMessage(fa sdk.ForeignAction) string {
	verb := map[string]string{evRestart: "restarted", evStop: "stopped", evKill: "killed"}[fa.Action]
	times := ""
	if fa.Count > 1 {
		times = fmt.Sprintf(" (%d operations of other clients in all)", fa.Count)
	}
	var when string
	switch {
	case fa.OffsetSeconds < 0:
		when = fmt.Sprintf("%.2f s before our %s", -fa.OffsetSeconds, fa.Ours)
	case fa.OffsetSeconds > 0:
		when = fmt.Sprintf("%.2f s after our %s", fa.OffsetSeconds, fa.Ours)
	default:
		when = "during our " + fa.Ours
	}
	return fmt.Sprintf("container %s was %s by another client %s%s; another healer (docker-autoheal, "+
		"a second hemostatd without this one's Redis) may be acting on this engine — remove it, "+
		"or label the container %s=false to leave it to the other", fa.Container, verb, when, times, sdk.LabelEnable)
}
