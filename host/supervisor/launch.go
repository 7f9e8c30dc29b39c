package supervisor

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hashicorp/go-plugin"
	"github.com/hemostat/hemostat/sdk"
)

// configuration is what Configure is called with on every (re)start.
type configuration struct {
	raw  json.RawMessage
	host sdk.Host
}

// launch starts one process of spec, checks that it serves spec.Role and,
// unless cfg is nil, configures it. On any error the process is gone
// again. A plugin's rejection of its settings is returned as the plugin's
// sdk.ConfigErrors, unwrapped, so that the caller can point at the config
// file's lines.
func (o *Options) launch(ctx context.Context, spec Spec, cfg *configuration) (*instance, error) {
	cmd, err := o.command(spec)
	if err != nil {
		return nil, err
	}
	secure, err := secureConfig(spec.SHA256)
	if err != nil {
		return nil, fmt.Errorf("plugin %s: %w", spec.label(), err)
	}
	var sockets socketDir
	sockets, cmd.Env = newSocketDir(cmd.Env)
	// A plugin whose calls must answer in 300 ms may still take longer to
	// start (exec, runtime start-up, the mTLS handshake) on a busy host:
	// its start gets DefaultTimeout at least, unless ctx says less.
	startTimeout := max(spec.Timeout, DefaultTimeout)
	if deadline, ok := ctx.Deadline(); ok {
		startTimeout = min(startTimeout, max(time.Until(deadline), time.Millisecond))
	}
	tail := &stderrTail{}
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		VersionedPlugins: sdk.VersionedPlugins(),
		Cmd:              cmd,
		SkipHostEnv:      true, // cmd.Env is all the plugin gets
		SecureConfig:     secure,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		StartTimeout:     startTimeout,
		// Plugin logs arrive as JSON lines on stderr and are re-logged
		// here; stdout belongs to the handshake.
		Logger: o.Logger.Named("plugin." + spec.label()),
		// A copy of stderr as it comes, to explain a death in the
		// plugin's own words.
		Stderr: tail,
		// Not Managed: go-plugin never forgets a managed client, and a
		// plugin in a crash loop would grow that list without bound. The
		// supervisor tracks and kills its own processes.
	})
	rpc, err := client.Client()
	if err != nil {
		client.Kill() // returns once stderr is read to its end
		sockets.remove()
		if note := tail.note(cmd.ProcessState); note != "" {
			return nil, &diedError{prefix: fmt.Sprintf("plugin %s: start %s: ", spec.label(), cmd.Path), note: note, err: err}
		}
		return nil, startError(spec, cmd, err)
	}
	in := &instance{client: client, cmd: cmd, pid: cmd.Process.Pid, started: time.Now(), spec: spec, stderr: tail, sockets: sockets}
	if g, ok := rpc.(*plugin.GRPCClient); ok {
		in.conn = g.Conn
	} else {
		in.kill()
		return nil, fmt.Errorf("plugin %s: speaks %T, not gRPC", spec.label(), rpc)
	}
	if err := in.handshake(ctx, spec, rpc, cfg); err != nil {
		in.kill()
		if _, ok := err.(sdk.ConfigErrors); ok {
			return nil, err
		}
		return nil, in.explain(err)
	}
	return in, nil
}

// handshake dispenses the role client, checks the role the plugin claims
// and sends its settings.
func (in *instance) handshake(ctx context.Context, spec Spec, rpc plugin.ClientProtocol, cfg *configuration) error {
	raw, err := rpc.Dispense(spec.Role)
	if err != nil {
		return fmt.Errorf("plugin %s: %w", spec.label(), err)
	}
	base, ok := raw.(sdk.Base)
	if !ok {
		return fmt.Errorf("plugin %s: role client %T lacks the base methods", spec.label(), raw)
	}
	in.raw, in.base = raw, base

	callCtx, cancel := context.WithTimeout(ctx, spec.Timeout)
	defer cancel()
	in.info, err = base.Info(callCtx)
	if err != nil {
		return fmt.Errorf("plugin %s: get info: %w", spec.label(), err)
	}
	if in.info.Role != spec.Role {
		return fmt.Errorf("plugin %s: %w: it is a %s plugin (%s %s)", spec.label(), errRoleMismatch, in.info.Role, in.info.Name, in.info.Version)
	}
	if cfg == nil {
		return nil
	}
	if err := base.Configure(withPolicy(callCtx, spec), cfg.raw, cfg.host); err != nil {
		if _, ok := err.(sdk.ConfigErrors); ok {
			return err
		}
		return fmt.Errorf("plugin %s: configure: %w", spec.label(), err)
	}
	return nil
}

// withPolicy carries what the plugin must know of the host's policy to
// Configure.
func withPolicy(ctx context.Context, spec Spec) context.Context {
	if len(spec.ResponderActions) == 0 {
		return ctx
	}
	return sdk.WithResponderActions(ctx, spec.ResponderActions)
}
