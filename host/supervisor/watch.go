package supervisor

import (
	"context"
	"errors"
	"time"

	"github.com/hashicorp/go-plugin"
	"github.com/hemostat/hemostat/sdk"
)

// watch is the plugin's watcher: it notices a dead or hung process and
// replaces it. It runs until ctx ends (Stop) or the plugin failed for
// good, and is the only goroutine that replaces the instance.
func (p *Plugin) watch(ctx context.Context) {
	defer close(p.done)
	opts := &p.sup.opts
	b := backoff{initial: opts.RestartInitial, max: opts.RestartMax}
	exits := time.NewTicker(exitPollInterval)
	defer exits.Stop()
	pings := time.NewTicker(opts.PingInterval)
	defer pings.Stop()
	for {
		in, err := p.current("watch")
		if err != nil {
			return // stopped
		}
		var cause error
		select {
		case <-ctx.Done():
			return
		case <-exits.C:
			if in.client.Exited() {
				cause = errExited
			}
		case <-pings.C:
			cause = in.ping(ctx, in.spec.Timeout)
		case <-p.suspect:
			cause = in.ping(ctx, in.spec.Timeout)
		}
		if cause == nil || ctx.Err() != nil || !p.isCurrent(in) {
			// A process a reload replaced is ended by the reload.
			continue
		}
		if !p.restart(ctx, in, cause, &b) {
			return
		}
	}
}

// restart replaces the failed instance old, retrying with backoff until a
// new process runs (true), ctx ends or the failure is one a retry cannot
// cure (false).
func (p *Plugin) restart(ctx context.Context, old *instance, cause error, b *backoff) bool {
	if !p.takeDownIf(old, StateRestarting, cause) {
		return true // a reload replaced old meanwhile and ends it itself
	}
	old.kill()
	// A process that died by itself (even one a ping found first) says
	// why in its last words; one killed for a hang says nothing here.
	if note := old.deathNote(); note != "" {
		cause = &diedError{note: note, err: cause}
		p.noteError(cause)
	}
	p.log.Error("plugin failed, restarting it", "pid", old.pid, "error", cause)
	p.emit(EventFailed, cause)
	if time.Since(old.started) >= stableAfter {
		b.reset()
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for {
		delay := b.next()
		timer.Reset(delay)
		select {
		case <-ctx.Done():
			return false
		case <-timer.C:
		}
		n := p.noteRestart()
		spec, cfg := p.configuration()
		in, err := p.sup.opts.launch(ctx, spec, &cfg)
		if err == nil {
			switch p.install(in) {
			case installedStopped:
				in.kill()
				return false
			case installedSuperseded:
				in.kill()
				p.log.Info("plugin restart superseded by a reload")
				return true
			}
			p.log.Info("plugin restarted", "pid", in.pid, "restarts", n)
			p.emit(EventRestarted, nil)
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		if permanent(err) {
			p.takeDown(StateFailed, err)
			p.log.Error("plugin cannot be restarted; giving up", "error", err)
			p.emit(EventGaveUp, err)
			return false
		}
		p.noteError(err)
		p.log.Warn("plugin restart failed, retrying", "error", err, "attempt", n)
		p.emit(EventFailed, err)
	}
}

// permanent reports failures that a retry with the same binary and
// settings cannot cure.
func permanent(err error) bool {
	var cerrs sdk.ConfigErrors
	return errors.As(err, &cerrs) ||
		errors.Is(err, plugin.ErrChecksumsDoNotMatch) ||
		errors.Is(err, errRoleMismatch)
}
