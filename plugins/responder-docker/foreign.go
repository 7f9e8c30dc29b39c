package dockerresponder

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
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
// responder knows which engine calls it made itself, so it looks at the
// container's events from foreignWindow before each of its restarts,
// starts, stops and kills until foreignWindow after the last one returned
// (one engine event subscription, opened at Configure, serves them all),
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

// foreignWatch follows containers around this responder's own calls. One
// long-lived subscription to the engine's restart, stop, kill and destroy
// events of every container keeps the last foreignWindow of them; a
// session per container acted on keeps its own from foreignWindow before
// our first call until foreignWindow after our last one returned. An
// events stream opened beside each action would cost the engine a
// subscription, and a replay of its event log, at the moment the action
// is timed.
type foreignWatch struct {
	mu       sync.Mutex
	log      hclog.Logger
	host     sdk.Host
	sessions map[string]*foreignSession // by container ID
	calls    map[string][]ownCall       // by container name, the last 2 windows
	warned   map[string]time.Time       // by container name
	// recent holds each container's followed events of the last
	// foreignWindow (longer while a session of it is open), by ID.
	recent map[string][]engineEvent
	// stopSub ends the subscription; nil while none runs.
	stopSub context.CancelFunc
	// down is when the subscription was last cut, zero while it runs:
	// a session that overlaps a cut may have missed events.
	down time.Time
	// now is the clock; tests set it.
	now func() time.Time
}

func newForeignWatch(log hclog.Logger) *foreignWatch {
	return &foreignWatch{
		log:      log,
		sessions: map[string]*foreignSession{},
		calls:    map[string][]ownCall{},
		warned:   map[string]time.Time{},
		recent:   map[string][]engineEvent{},
		now:      time.Now,
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

// start (re)subscribes to cli's events, replacing a subscription to an
// earlier client. It asks for the events since foreignWindow ago, so that
// the first action's window is complete.
func (w *foreignWatch) start(cli *client.Client) {
	if w == nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.mu.Lock()
	if w.stopSub != nil {
		w.stopSub()
	}
	w.stopSub = cancel
	since := w.now().Add(-foreignWindow)
	w.mu.Unlock()
	go w.subscribe(ctx, cli, since)
}

// stop ends the subscription and every open session, reporting nothing.
func (w *foreignWatch) stop() {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopSub != nil {
		w.stopSub()
		w.stopSub = nil
	}
	for id, s := range w.sessions {
		if s.timer != nil {
			s.timer.Stop()
		}
		delete(w.sessions, id)
	}
}

// foreignSession is one container acted on, while our calls on it are in
// progress or less than foreignWindow old.
type foreignSession struct {
	id, name string
	// from is foreignWindow before our first call began: the oldest
	// event the session looks at.
	from    time.Time
	pending int // our calls in progress
	// calls are ours on the container during the session: the windows
	// that events are judged in.
	calls []ownCall
	timer *time.Timer
	// cut is set when the subscription was down during the session.
	cut bool
}

// foreignCall is one of our actions in progress; end records it.
type foreignCall struct {
	w       *foreignWatch
	s       *foreignSession
	action  string
	running bool
	began   time.Time
}

// begin marks the start of an action on the container id that may
// restart, start, stop or kill it. It costs the action no engine call:
// the subscription is already running (begun lazily here only when
// Configure did not start one). running is whether the container runs as
// the action begins.
func (w *foreignWatch) begin(cli *client.Client, id, name string, running bool, req sdk.RemediateRequest) *foreignCall {
	if !followed[req.Action] || req.DryRun || w == nil {
		return nil
	}
	w.mu.Lock()
	subscribed := w.stopSub != nil
	w.mu.Unlock()
	if !subscribed {
		w.start(cli)
	}
	now := w.now()
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.sessions[id]
	if s == nil {
		s = &foreignSession{id: id, name: name, from: now.Add(-foreignWindow), cut: !w.down.IsZero()}
		w.sessions[id] = s
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
	now := w.now()
	w.mu.Lock()
	defer w.mu.Unlock()
	s.pending--
	if res.Status == sdk.StatusSuccess || res.Status == sdk.StatusFailed {
		c := ownCall{action: fc.action, running: fc.running, began: fc.began, ended: now}
		s.calls = append(s.calls, c)
		w.record(s.name, c)
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
	if len(s.calls) == 0 {
		// Nothing was done: nothing to compare another client's work to.
		if w.sessions[s.id] == s {
			delete(w.sessions, s.id)
		}
		return
	}
	if s.timer == nil {
		s.timer = time.AfterFunc(foreignWindow, func() { w.close(s) })
	} else {
		s.timer.Reset(foreignWindow)
	}
}

// record keeps a call of ours on name, the one that explains its events
// to a later session too (a dependent's, or the next session's first
// moments), and forgets the ones no window reaches any more.
func (w *foreignWatch) record(name string, c ownCall) {
	keep := w.calls[name][:0]
	for _, old := range w.calls[name] {
		if c.began.Sub(old.ended) < 2*foreignWindow+foreignSkew {
			keep = append(keep, old)
		}
	}
	w.calls[name] = append(keep, c)
}

// subscribe follows the engine's restart, stop, kill and destroy events of
// every container until ctx ends. A cut stream is opened again from the
// last event seen, so a short cut loses nothing the engine still holds.
func (w *foreignWatch) subscribe(ctx context.Context, cli *client.Client, since time.Time) {
	f := filters.NewArgs(filters.Arg("type", string(events.ContainerEventType)))
	for _, a := range []string{evRestart, evStop, evKill, evDestroy} {
		f.Add("event", a)
	}
	prune := time.NewTicker(foreignWindow)
	defer prune.Stop()
	retry := time.Second
	negotiated := false
	for {
		if !negotiated {
			negotiated = negotiate(ctx, cli)
		}
		if !negotiated {
			w.cutOff(errNoPing)
		} else if !w.follow(ctx, cli, f, prune.C, &since, &retry) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(retry):
		}
		retry = min(2*retry, 30*time.Second)
	}
}

// errNoPing is why the watch is cut while the engine does not answer.
var errNoPing = errors.New("the engine does not answer a ping")

// follow reads one events stream from *since on until it is cut, keeping
// each event and moving *since past it, and resetting *retry once events
// flow. It returns false when ctx ended.
func (w *foreignWatch) follow(ctx context.Context, cli *client.Client, f filters.Args, prune <-chan time.Time, since *time.Time, retry *time.Duration) bool {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	msgs, errs := cli.Events(sctx, events.ListOptions{Since: unixNano(*since), Filters: f})
	w.mu.Lock()
	w.down = time.Time{}
	w.mu.Unlock()
	for {
		select {
		case m := <-msgs:
			at := time.Unix(0, m.TimeNano)
			*since = at
			*retry = time.Second
			w.mu.Lock()
			w.recent[m.Actor.ID] = append(w.recent[m.Actor.ID], engineEvent{action: string(m.Action), at: at})
			w.mu.Unlock()
		case <-prune:
			w.prune()
		case err := <-errs:
			if ctx.Err() != nil {
				return false
			}
			w.cutOff(err)
			return true
		}
	}
}

// cutOff notes that the subscription was cut: the sessions open now may
// miss another client's events.
func (w *foreignWatch) cutOff(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.down.IsZero() {
		w.down = w.now()
		w.log.Debug("engine events cut; following them again", "error", err)
	}
	for _, s := range w.sessions {
		s.cut = true
	}
}

// prune forgets the events no open or future session reaches.
func (w *foreignWatch) prune() {
	w.mu.Lock()
	defer w.mu.Unlock()
	horizon := w.now().Add(-foreignWindow - foreignSkew)
	for id, evs := range w.recent {
		from := horizon
		if s := w.sessions[id]; s != nil && s.from.Before(from) {
			from = s.from
		}
		keep := evs[:0]
		for _, e := range evs {
			if !e.at.Before(from) {
				keep = append(keep, e)
			}
		}
		if len(keep) == 0 {
			delete(w.recent, id)
		} else {
			w.recent[id] = keep
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
	var evs []engineEvent
	for _, e := range w.recent[s.id] {
		if !e.at.Before(s.from) {
			evs = append(evs, e)
		}
	}
	session, known := append([]ownCall(nil), s.calls...), append([]ownCall(nil), w.calls[s.name]...)
	cut, host := s.cut, w.host
	w.mu.Unlock()

	if cut {
		w.log.Debug("engine events of a container acted on were cut short; another client's actions may go unseen", "container", s.name)
	}
	fa, ok := foreignIn(evs, session, known)
	if !ok {
		return
	}
	fa.Container, fa.ContainerID = s.name, shortID(s.id)
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

// foreignIn judges one session: evs are the container's followed events
// since foreignWindow before the session's first call, session its calls,
// known every call of ours on the container still remembered (a session
// before this one, a restart of it as a dependent). Only events within
// foreignWindow of one of the session's calls count, whatever else the
// session saw: a session kept open by a crash loop's restarts spans many
// windows, and an event far from every call of ours is no other healer's
// answer to it. It reports another client's operations, if any.
func foreignIn(evs []engineEvent, session, known []ownCall) (sdk.ForeignAction, bool) {
	var near []engineEvent
	for _, e := range evs {
		if e.action == evDestroy {
			// Someone removed it: that is a person's or a deployment's
			// work, and docker rm -f's kill is not another healer's.
			return sdk.ForeignAction{}, false
		}
		for _, c := range session {
			if c.distance(e.at) <= foreignWindow {
				near = append(near, e)
				break
			}
		}
	}
	calls := append([]ownCall(nil), known...)
	for _, c := range session {
		if !slices.Contains(calls, c) {
			calls = append(calls, c)
		}
	}
	kind, count, first := foreignOps(unexplained(near, calls))
	if count == 0 {
		return sdk.ForeignAction{}, false
	}
	// The offset is told from the session's call nearest to the event:
	// the action of ours the other healer raced.
	ours, offset := nearest(first.at, session)
	return sdk.ForeignAction{
		Action: kind, Count: count, Ours: ours.action, OffsetSeconds: roundCenti(offset.Seconds()), At: first.at,
	}, true
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

// negotiate fixes cli's API version from a ping before the first event
// stream opens. The client's Events reads the version in a goroutine of its
// own without its negotiation lock, so a first request that negotiates at
// the same time (an action's inspect) would race with it; once negotiated,
// the version is never written again.
func negotiate(ctx context.Context, cli *client.Client) bool {
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ping, err := cli.Ping(pctx)
	if err != nil {
		return false
	}
	cli.NegotiateAPIVersionPing(ping)
	return true
}
