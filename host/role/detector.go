package role

import (
	"strconv"
	"time"

	"github.com/hemostat/hemostat/host/forecast"
	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/sdk"
)

// Labels a container can carry to tune detection for itself.
const (
	LabelEnable    = sdk.LabelEnable
	LabelCPUPct    = sdk.LabelCPUPct
	LabelMemoryPct = sdk.LabelMemoryPct
)

// Thresholds configure the detector.
type Thresholds struct {
	CPUPct    float64
	MemoryPct float64
	// Sustain is how long a breach must last before it is an alert, so
	// that one spike is not.
	Sustain time.Duration
	// Grace delays resource alerts after a container starts; lifecycle
	// alerts are never delayed (Docker's unhealthy already waited for the
	// healthcheck's start period).
	Grace time.Duration
	// Realert is the least time between two alerts of the same kind for a
	// container that stays sick. It never outlives a recovery: once the
	// container was healthy again, below the line again or (re)started,
	// its next trouble alerts at once and the responder's backoff alone
	// paces the actions.
	Realert time.Duration
	// RestartLoopCount restarts by Docker's own restart policy within
	// RestartLoopWindow is a restart loop; 0 never makes one. hemostatd's
	// own restarts are bounded by the responder's breaker instead.
	RestartLoopCount  int
	RestartLoopWindow time.Duration
	// LeakForecast alerts a memory leak before the OOM kill: a
	// least-squares line through a container's last LeakSamples memory
	// figures that rises by at least leakMinT standard errors and reaches
	// the limit within LeakHorizon is alerted at once, without Sustain,
	// whatever memory_pct says — a leak fast enough to matter reaches the
	// kill inside the sustain window.
	LeakForecast bool
	LeakHorizon  time.Duration
	LeakSamples  int
}

// leakMinT is how many standard errors a memory slope must stand clear of
// zero to be a leak: the noise of a flat container gets there about once
// in a few hundred fits, and its slope is then far too small to reach the
// limit within a horizon.
const leakMinT = 3

// Detection is what the detector found in one sample.
type Detection struct {
	Issues []string
	// Kind groups issues for re-alert throttling: "exit", "oom",
	// "unhealthy", "cpu", "memory", "leak", "restart_loop".
	Kind string
}

// detector turns a stream of samples into alerts. It keeps per-container
// state and is used from one goroutine.
type detector struct {
	th         Thresholds
	containers map[string]*containerState
}

type containerState struct {
	startedAt time.Time
	paused    bool
	cpuSince  time.Time // start of the current CPU breach, zero when none
	memSince  time.Time
	// mem is the newest memory figures of the running process, for the
	// leak forecast; a start, a die or a pause empties it.
	mem         []forecast.Point
	crashes     []time.Time // recent non-requested exits, for restart loops
	lastAlerted map[string]time.Time
	lastSeen    time.Time
	// status is the container's status as its newest sample said; what
	// a sample after a gap in the stream is compared with.
	status string
}

func newDetector(th Thresholds) *detector {
	return &detector{th: th, containers: map[string]*containerState{}}
}

func (d *detector) state(name string) *containerState {
	st, ok := d.containers[name]
	if !ok {
		st = &containerState{lastAlerted: map[string]time.Time{}}
		d.containers[name] = st
	}
	return st
}

// observe feeds one sample and returns the alert it raises, if any.
func (d *detector) observe(s sdk.Sample) (Detection, bool) {
	if sdk.OptedOut(s.Labels) {
		return Detection{}, false
	}
	now := s.Time
	st := d.state(s.Container)
	st.lastSeen = now
	if !s.StartedAt.IsZero() {
		st.startedAt = s.StartedAt
	}
	before := st.status
	st.status = s.Status
	switch s.Event {
	case "":
		if exitedInGap(before, s) {
			return d.die(st, s)
		}
		return d.resource(st, s)
	case sdk.EventDestroy:
		delete(d.containers, s.Container)
		return Detection{}, false
	case sdk.EventStart, sdk.EventRestart:
		if s.StartedAt.IsZero() {
			st.startedAt = now
		}
		st.paused = false
		st.cpuSince, st.memSince = time.Time{}, time.Time{}
		st.mem = nil
		// A fresh start — the responder's restart, or anyone's — ends
		// every incident but a restart loop, which is made of starts.
		st.recovered("oom", "unhealthy", "cpu", "memory", "leak")
		return Detection{}, false
	case sdk.EventPause:
		st.paused = true
		st.mem = nil
		return Detection{}, false
	case sdk.EventUnpause:
		st.paused = false
		return Detection{}, false
	case sdk.EventOOM:
		return d.throttle(st, now, Detection{Kind: "oom", Issues: []string{protocol.IssueOOMKilled}})
	case sdk.EventHealthStatus:
		if s.Health == sdk.HealthHealthy {
			st.recovered("unhealthy")
		}
		if s.Health != sdk.HealthUnhealthy || st.paused {
			return Detection{}, false
		}
		return d.throttle(st, now, Detection{Kind: "unhealthy", Issues: []string{protocol.IssueUnhealthy}})
	case sdk.EventDie:
		return d.die(st, s)
	}
	return Detection{}, false
}

// exitedInGap says whether a state sample shows a container stopped that
// was running, or being restarted by Docker, at the sample before it: it
// exited while the stream was down — the monitor plugin restarting, the
// engine reconnecting — and the die event that would have said so is
// lost. The sample stands in for it, once: the status it leaves behind is
// no longer running.
func exitedInGap(before string, s sdk.Sample) bool {
	switch s.Status {
	case "exited", "dead":
	default:
		return false
	}
	return before == "running" || before == "restarting"
}

// knows says whether the detector has seen the container.
func (d *detector) knows(name string) bool {
	_, ok := d.containers[name]
	return ok
}

// recall gives the detector a container's status from before it saw it
// — the stats key another run of the monitor role wrote — so that a crash
// during a restart of hemostatd itself is seen too.
func (d *detector) recall(name, status string) {
	if st := d.state(name); st.status == "" {
		st.status = status
	}
}

// ranUnwatched says the container ran while no monitor watched the
// engine: its exit in the sample that follows is a crash seen late, even
// when the detector knew it stopped before.
func (d *detector) ranUnwatched(name string) { d.state(name).status = "running" }

func (d *detector) die(st *containerState, s sdk.Sample) (Detection, bool) {
	now := s.Time
	st.cpuSince, st.memSince = time.Time{}, time.Time{}
	st.mem = nil
	if s.StopRequested && !s.OOMKilled {
		// A person (or the responder itself) stopped it: not a crash.
		return Detection{}, false
	}
	if s.ExitCode == 0 && !s.OOMKilled {
		return Detection{}, false
	}
	if s.RestartingByDocker {
		// The engine's restart policy is bringing it back, past the
		// responder's gate: the detector counts those restarts against
		// the same allowance the breaker gives hemostatd's own.
		return d.dockerRestart(st, s)
	}
	if s.OOMKilled {
		// The oom event usually came first and was alerted already; the
		// shared kind keeps this one from doubling it.
		return d.throttle(st, now, Detection{Kind: "oom", Issues: []string{protocol.IssueOOMKilled, protocol.IssueExited(s.ExitCode)}})
	}
	// Each crash is its own incident: a container that died again after
	// being restarted must be seen again, so exits are not throttled by
	// Realert; the responder's backoff paces the actions.
	return Detection{Kind: "exit", Issues: []string{protocol.IssueExited(s.ExitCode)}}, true
}

// dockerRestart counts a crash Docker's restart policy is undoing. The
// crash after RestartLoopCount-1 of them within RestartLoopWindow is a
// restart loop. Crashes hemostatd itself restarts are not counted here:
// the responder's backoff paces them and its breaker ends them, so there
// is one restart-loop policy, not two that disagree.
func (d *detector) dockerRestart(st *containerState, s sdk.Sample) (Detection, bool) {
	now := s.Time
	if d.th.RestartLoopCount <= 0 {
		return Detection{}, false
	}
	st.crashes = append(st.crashes, now)
	cut := 0
	for cut < len(st.crashes) && now.Sub(st.crashes[cut]) > d.th.RestartLoopWindow {
		cut++
	}
	st.crashes = st.crashes[cut:]
	if len(st.crashes) < d.th.RestartLoopCount {
		return Detection{}, false
	}
	return d.throttle(st, now, Detection{Kind: "restart_loop", Issues: []string{
		protocol.IssueRestartLoop(len(st.crashes), d.th.RestartLoopWindow),
		protocol.IssueExited(s.ExitCode),
	}})
}

func (d *detector) resource(st *containerState, s sdk.Sample) (Detection, bool) {
	now := s.Time
	if s.Status != "running" || st.paused {
		st.cpuSince, st.memSince = time.Time{}, time.Time{}
		st.mem = nil
		return Detection{}, false
	}
	d.recordMemory(st, s)
	if s.Health == sdk.HealthHealthy {
		st.recovered("unhealthy")
	}
	if s.Health == sdk.HealthUnhealthy {
		// Seen at start-up or after a gap, without the event.
		if det, ok := d.throttle(st, now, Detection{Kind: "unhealthy", Issues: []string{protocol.IssueUnhealthy}}); ok {
			return det, true
		}
	}
	if !st.startedAt.IsZero() && now.Sub(st.startedAt) < d.th.Grace {
		return Detection{}, false
	}
	cpuLimit := labelFloat(s.Labels, LabelCPUPct, d.th.CPUPct)
	memLimit := labelFloat(s.Labels, LabelMemoryPct, d.th.MemoryPct)
	var det Detection
	if st.breached("cpu", &st.cpuSince, s.CPUPct > cpuLimit, now, d.th.Sustain) {
		det.Kind = "cpu"
		det.Issues = append(det.Issues, protocol.IssueHighCPU(s.CPUPct))
	}
	if st.breached("memory", &st.memSince, s.MemoryPct > memLimit, now, d.th.Sustain) {
		if det.Kind == "" {
			det.Kind = "memory"
		}
		det.Issues = append(det.Issues, protocol.IssueHighMemory(s.MemoryPct))
	}
	// A leak outranks a breach: it is an OOM kill on its way.
	if leak, ok := d.forecastLeak(st); ok {
		if found, ok := d.throttle(st, now, leak); ok {
			// The forecast covers the memory line too: one incident, one
			// action, not a second one for the breach a moment later.
			st.lastAlerted["memory"] = now
			return found, true
		}
	}
	if det.Kind == "" {
		return Detection{}, false
	}
	return d.throttle(st, now, det)
}

// recordMemory keeps the container's newest LeakSamples memory figures.
// It runs during the start-up grace too, so that a forecast is ready the
// moment the grace ends.
func (d *detector) recordMemory(st *containerState, s sdk.Sample) {
	if !d.th.LeakForecast || d.th.LeakSamples < forecast.MinPoints {
		st.mem = nil
		return
	}
	if n := len(st.mem); n > 0 && !s.Time.After(st.mem[n-1].T) {
		return // a sample out of order or twice: it would bend the line
	}
	st.mem = append(st.mem, forecast.Point{T: s.Time, Pct: s.MemoryPct})
	if extra := len(st.mem) - d.th.LeakSamples; extra > 0 {
		st.mem = append(st.mem[:0], st.mem[extra:]...)
	}
}

// forecastLeak projects the container's memory to its limit once a full
// window of samples is in. A window that shows no significant rise ends a
// leak incident, so the next leak alerts at once.
func (d *detector) forecastLeak(st *containerState) (Detection, bool) {
	if !d.th.LeakForecast || len(st.mem) < d.th.LeakSamples || d.th.LeakSamples < forecast.MinPoints {
		return Detection{}, false
	}
	fc, ok := forecast.Project(st.mem, leakMinT, d.th.LeakHorizon)
	if !ok {
		if fit, fitted := forecast.Line(st.mem); fitted && !fit.Rising(leakMinT) {
			st.recovered("leak")
		}
		return Detection{}, false
	}
	return Detection{Kind: "leak", Issues: []string{sdk.IssueMemoryForecast(sdk.MemoryForecast{
		Pct: fc.Pct, In: fc.In, SlopePctPerSec: fc.Slope,
	})}}, true
}

// breached tracks one metric's breach and reports whether it has lasted
// the sustain window. A sample back under the line ends the incident, so
// the next breach is not throttled by the one before.
func (st *containerState) breached(kind string, since *time.Time, above bool, now time.Time, sustain time.Duration) bool {
	if !above {
		*since = time.Time{}
		st.recovered(kind)
		return false
	}
	if since.IsZero() {
		*since = now
	}
	return now.Sub(*since) >= sustain
}

func (d *detector) throttle(st *containerState, now time.Time, det Detection) (Detection, bool) {
	if last, ok := st.lastAlerted[det.Kind]; ok && now.Sub(last) < d.th.Realert {
		return Detection{}, false
	}
	st.lastAlerted[det.Kind] = now
	return det, true
}

// recovered ends the incidents of the given kinds: the next alert of one
// of them is not throttled.
func (st *containerState) recovered(kinds ...string) {
	for _, k := range kinds {
		delete(st.lastAlerted, k)
	}
}

// forgetIdle drops the state of containers not seen for a long time, so a
// host that churns through short-lived containers does not grow memory.
func (d *detector) forgetIdle(now time.Time, idle time.Duration) {
	for name, st := range d.containers {
		if now.Sub(st.lastSeen) > idle {
			delete(d.containers, name)
		}
	}
}

func labelFloat(labels map[string]string, key string, def float64) float64 {
	if v, ok := labels[key]; ok {
		if f, err := strconv.ParseFloat(v, 64); err == nil && f > 0 {
			return f
		}
	}
	return def
}
