package supervisor

import (
	"context"
	"fmt"
	"time"
)

// Replacement is a new process for a running plugin, started and
// configured with new settings but not yet serving. Commit puts it in the
// place of the running process; Abort ends it. A reload prepares every
// replacement it needs before it commits any, so that a reload one plugin
// refuses changes nothing.
type Replacement struct {
	p   *Plugin
	in  *instance
	cfg configuration
}

// drainPoll is how often a replaced process is checked for calls still
// under way.
const drainPoll = 10 * time.Millisecond

// Prepare starts a process of the plugin with spec, which must name the
// same role and plugin, and configures it. The running process goes on
// serving. A plugin that rejects its new settings returns its
// sdk.ConfigErrors, as Start does.
func (p *Plugin) Prepare(ctx context.Context, spec Spec) (*Replacement, error) {
	spec, err := spec.normalize()
	if err != nil {
		return nil, err
	}
	if spec.Role != p.spec.Role || spec.Name != p.spec.Name {
		return nil, fmt.Errorf("plugin %s: a replacement must be the same plugin, not %s", p.spec.label(), spec.label())
	}
	if p.sup.isStopped() {
		return nil, ErrStopped
	}
	_, cur := p.configuration()
	cfg := configuration{raw: spec.Config, host: cur.host}
	if spec.Host != nil {
		cfg.host = spec.Host // a responder's new safety policy
	}
	in, err := p.sup.opts.launch(ctx, spec, &cfg)
	if err != nil {
		return nil, err
	}
	return &Replacement{p: p, in: in, cfg: cfg}, nil
}

// Abort ends a replacement that will not be committed.
func (r *Replacement) Abort() { r.in.kill() }

// PID is the replacement process's.
func (r *Replacement) PID() int { return r.in.pid }

// Commit makes the replacement the plugin's running process: new calls go
// to it at once. The process it replaces finishes the calls it has under
// way (within their deadline), then is shut down politely within ctx. A
// plugin that was stopped meanwhile ends the replacement instead.
func (r *Replacement) Commit(ctx context.Context) {
	p := r.p
	p.mu.Lock()
	if p.state == StateStopped {
		p.mu.Unlock()
		r.in.kill()
		return
	}
	old := p.inst
	p.inst, p.live, p.cfg = r.in, r.in.spec, r.cfg
	p.state, p.since = StateRunning, time.Now()
	p.mu.Unlock()
	p.sup.metrics.up.WithLabelValues(p.spec.Role, p.spec.Name).Set(1)
	p.log.Info("plugin reloaded with new settings", "pid", r.in.pid)
	if old == nil {
		return // it was restarting; its watcher's new process is dropped
	}
	// Calls under way on old end within their deadline at the latest.
	deadline := time.Now().Add(old.spec.Timeout)
	for old.inflight.Load() > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(drainPoll)
	}
	if err := old.stop(ctx); err != nil {
		p.log.Warn("replaced plugin's shutdown RPC failed", "pid", old.pid, "error", err)
	}
}
