package supervisor

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hemostat/hemostat/sdk"
)

// States of a plugin, as Status reports them.
const (
	// StateRunning: the process is up and answered its last check.
	StateRunning = "running"
	// StateRestarting: the process failed; a new one is being started,
	// with backoff. Calls fail at once with ErrUnavailable meanwhile.
	StateRestarting = "restarting"
	// StateStopped: Stop ended the plugin.
	StateStopped = "stopped"
	// StateFailed: the plugin cannot be restarted without a change by an
	// operator (its binary no longer matches the pin, it rejects its
	// settings, it serves another role). The host keeps running.
	StateFailed = "failed"
)

// Status is one plugin as the dashboard and `hemostatd plugins` show it.
type Status struct {
	Role string `json:"role"`
	Name string `json:"name"`
	// Path is the executable as configured; empty for a built-in plugin.
	Path string `json:"path,omitempty"`
	// PID is the running process's; 0 when none runs.
	PID   int    `json:"pid"`
	State string `json:"state"`
	// Restarts counts relaunches after a crash or hang.
	Restarts  int    `json:"restarts"`
	LastError string `json:"last_error,omitempty"`
	// Since is when the plugin entered State.
	Since time.Time `json:"since"`
	// Version is what the running process reported; empty when none runs.
	Version string `json:"version,omitempty"`
}

// Plugin is one supervised plugin. Its role adapters stay valid across
// restarts: every call goes to the process running at that moment.
type Plugin struct {
	sup *Supervisor
	// spec is the plugin as first started; its role and name never
	// change. The spec in force, which a reload may change, is live.
	spec Spec
	log  hclog.Logger
	// suspect asks the watcher to check the plugin now: a call saw the
	// transport fail.
	suspect chan struct{}
	// done is closed when the watcher goroutine returns.
	done chan struct{}

	mu       sync.Mutex
	inst     *instance // nil while not running
	live     Spec
	cfg      configuration
	state    string
	restarts int
	lastErr  string
	since    time.Time
}

// Spec returns the plugin's spec in force, defaults filled in.
func (p *Plugin) Spec() Spec {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.live
}

// Status returns the plugin's current state.
func (p *Plugin) Status() Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := Status{
		Role: p.spec.Role, Name: p.spec.Name, Path: p.live.Path,
		State: p.state, Restarts: p.restarts, LastError: p.lastErr, Since: p.since,
	}
	if p.inst != nil {
		st.PID, st.Version = p.inst.pid, p.inst.info.Version
	}
	return st
}

// current returns the running instance, or an error wrapping
// ErrUnavailable that says why there is none.
func (p *Plugin) current(method string) (*instance, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.inst != nil {
		return p.inst, nil
	}
	if p.lastErr == "" {
		return nil, fmt.Errorf("plugin %s: %s: %w, %w (%s)", p.spec.label(), method, ErrUnavailable, ErrNotSent, p.state)
	}
	return nil, fmt.Errorf("plugin %s: %s: %w, %w (%s after: %s)", p.spec.label(), method, ErrUnavailable, ErrNotSent, p.state, p.lastErr)
}

// configuration returns the spec a restart launches and what Configure is
// called with then.
func (p *Plugin) configuration() (Spec, configuration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.live, p.cfg
}

// setConfiguration remembers settings a caller sent through an adapter's
// Configure, so that a restart does not roll them back.
func (p *Plugin) setConfiguration(raw json.RawMessage, host sdk.Host) {
	p.mu.Lock()
	p.cfg = configuration{raw: raw, host: host}
	p.mu.Unlock()
}

// Outcomes of install.
type installed int

const (
	installedOK installed = iota
	// installedStopped: the plugin was stopped; a restart racing Stop
	// must leave no process.
	installedStopped
	// installedSuperseded: a reload put another process in place while
	// this one was being started with the settings it replaced.
	installedSuperseded
)

// install makes in the running instance, unless the plugin was stopped or
// a reload installed a process of newer settings meanwhile.
func (p *Plugin) install(in *instance) installed {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.state == StateStopped:
		return installedStopped
	case p.inst != nil:
		return installedSuperseded
	}
	p.inst, p.state, p.since = in, StateRunning, time.Now()
	p.sup.metrics.up.WithLabelValues(p.spec.Role, p.spec.Name).Set(1)
	return installedOK
}

// takeDown removes the running instance, entering state for reason, and
// returns the instance for the caller to end.
func (p *Plugin) takeDown(state string, reason error) *instance {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.takeDownLocked(state, reason)
}

func (p *Plugin) takeDownLocked(state string, reason error) *instance {
	in := p.inst
	p.inst = nil
	if p.state != StateStopped {
		p.state, p.since = state, time.Now()
	}
	if reason != nil {
		p.lastErr = reason.Error()
	}
	p.sup.metrics.up.WithLabelValues(p.spec.Role, p.spec.Name).Set(0)
	return in
}

// takeDownIf takes the running instance down like takeDown, but only if it
// is still old: false when a reload has put another in its place.
func (p *Plugin) takeDownIf(old *instance, state string, reason error) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.inst != old {
		return false
	}
	p.takeDownLocked(state, reason)
	return true
}

// isCurrent reports whether in is the running instance.
func (p *Plugin) isCurrent(in *instance) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.inst == in
}

// noteRestart counts one relaunch.
func (p *Plugin) noteRestart() int {
	p.mu.Lock()
	p.restarts++
	n := p.restarts
	p.mu.Unlock()
	p.sup.metrics.restarts.WithLabelValues(p.spec.Role, p.spec.Name).Inc()
	return n
}

// noteError records why the last restart attempt failed.
func (p *Plugin) noteError(err error) {
	p.mu.Lock()
	p.lastErr = err.Error()
	p.mu.Unlock()
}

// markSuspect asks the watcher for a check without blocking the caller.
func (p *Plugin) markSuspect() {
	select {
	case p.suspect <- struct{}{}:
	default:
	}
}
