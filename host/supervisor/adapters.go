package supervisor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hemostat/hemostat/sdk"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Monitor returns the plugin as an sdk.Monitor. Its calls fail with a clear
// error if the plugin is not a monitor.
func (p *Plugin) Monitor() sdk.Monitor { return monitorAdapter{p} }

// Analyzer returns the plugin as an sdk.Analyzer.
func (p *Plugin) Analyzer() sdk.Analyzer { return analyzerAdapter{p} }

// Responder returns the plugin as an sdk.Responder.
func (p *Plugin) Responder() sdk.Responder { return responderAdapter{p} }

// Notifier returns the plugin as an sdk.Notifier.
func (p *Plugin) Notifier() sdk.Notifier { return notifierAdapter{p} }

// call runs one role method on the current process. It applies the
// plugin's deadline (not to streams), and turns a broken transport into an
// error wrapping ErrUnavailable after asking the watcher to check the
// process.
func call[C, R any](ctx context.Context, p *Plugin, method string, stream bool, fn func(context.Context, C) (R, error)) (R, error) {
	var zero R
	in, err := p.current(method)
	if err != nil {
		return zero, err
	}
	client, ok := in.raw.(C)
	if !ok {
		return zero, fmt.Errorf("plugin %s: %s: a %s plugin has no such method", p.spec.label(), method, p.spec.Role)
	}
	if !stream {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, in.spec.Timeout)
		defer cancel()
		in.inflight.Add(1)
		defer in.inflight.Add(-1)
	}
	r, err := fn(ctx, client)
	if err != nil {
		return zero, p.callError(ctx, in, method, err)
	}
	return r, nil
}

// callError classifies a failed call.
func (p *Plugin) callError(ctx context.Context, in *instance, method string, err error) error {
	var cerrs sdk.ConfigErrors
	if errors.As(err, &cerrs) {
		return cerrs // the caller maps them onto config positions
	}
	// The caller's context or the plugin's deadline ended the call; a
	// plugin that is hung as a whole is caught by the watcher's ping. The
	// plugin's side may report the deadline a moment before ctx does.
	ctxErr := ctx.Err()
	if ctxErr == nil && status.Code(err) == codes.DeadlineExceeded {
		ctxErr = context.DeadlineExceeded
	}
	if ctxErr != nil {
		return fmt.Errorf("plugin %s: %s: %w (%v)", p.spec.label(), method, ctxErr, err)
	}
	if status.Code(err) == codes.Unavailable || in.client.Exited() {
		p.markSuspect()
		return fmt.Errorf("plugin %s: %s: %w: %w", p.spec.label(), method, ErrUnavailable, err)
	}
	return fmt.Errorf("plugin %s: %s: %w", p.spec.label(), method, err)
}

// configure sends new settings through an adapter and keeps them for
// restarts. A nil host means the supervisor's.
func (p *Plugin) configure(ctx context.Context, raw json.RawMessage, host sdk.Host) error {
	if host == nil {
		host = p.sup.opts.Host
	}
	_, err := call(ctx, p, "Configure", false, func(ctx context.Context, c sdk.Base) (struct{}, error) {
		return struct{}{}, c.Configure(withPolicy(ctx, p.spec), raw, host)
	})
	if err == nil {
		p.setConfiguration(raw, host)
	}
	return err
}

type monitorAdapter struct{ p *Plugin }

func (a monitorAdapter) Configure(ctx context.Context, raw json.RawMessage, host sdk.Host) error {
	return a.p.configure(ctx, raw, host)
}

// Watch streams samples until ctx ends or the plugin fails; it has no
// deadline.
func (a monitorAdapter) Watch(ctx context.Context, emit func(sdk.Sample) error) error {
	_, err := call(ctx, a.p, "Watch", true, func(ctx context.Context, c *sdk.MonitorClient) (struct{}, error) {
		return struct{}{}, c.Watch(ctx, emit)
	})
	return err
}

type analyzerAdapter struct{ p *Plugin }

func (a analyzerAdapter) Configure(ctx context.Context, raw json.RawMessage, host sdk.Host) error {
	return a.p.configure(ctx, raw, host)
}

func (a analyzerAdapter) Analyze(ctx context.Context, req sdk.AnalyzeRequest) (sdk.Decision, error) {
	return call(ctx, a.p, "Analyze", false, func(ctx context.Context, c *sdk.AnalyzerClient) (sdk.Decision, error) {
		return c.Analyze(ctx, req)
	})
}

type responderAdapter struct{ p *Plugin }

func (a responderAdapter) Configure(ctx context.Context, raw json.RawMessage, host sdk.Host) error {
	return a.p.configure(ctx, raw, host)
}

func (a responderAdapter) Capabilities(ctx context.Context) ([]string, error) {
	return call(ctx, a.p, "Capabilities", false, func(ctx context.Context, c *sdk.ResponderClient) ([]string, error) {
		return c.Capabilities(ctx)
	})
}

func (a responderAdapter) Remediate(ctx context.Context, req sdk.RemediateRequest) (sdk.Result, error) {
	return call(ctx, a.p, "Remediate", false, func(ctx context.Context, c *sdk.ResponderClient) (sdk.Result, error) {
		return c.Remediate(ctx, req)
	})
}

type notifierAdapter struct{ p *Plugin }

func (a notifierAdapter) Configure(ctx context.Context, raw json.RawMessage, host sdk.Host) error {
	return a.p.configure(ctx, raw, host)
}

func (a notifierAdapter) Notify(ctx context.Context, n sdk.Notification) error {
	_, err := call(ctx, a.p, "Notify", false, func(ctx context.Context, c *sdk.NotifierClient) (struct{}, error) {
		return struct{}{}, c.Notify(ctx, n)
	})
	return err
}
