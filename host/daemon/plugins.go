package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hemostat/hemostat/host/config"
	"github.com/hemostat/hemostat/host/supervisor"
	"github.com/hemostat/hemostat/plugins/builtin"
	"github.com/hemostat/hemostat/sdk"
)

// PluginFileName is the name a custom plugin has in the plugin directory.
func PluginFileName(role, name string) string { return "hemostat-" + role + "-" + name }

// Spec resolves a plugin block to what the supervisor launches: an explicit
// path, else a binary in the plugin directory, else the built-in.
func Spec(cfg *config.Config, role string, p config.Plugin) (supervisor.Spec, error) {
	spec := supervisor.Spec{Role: role, Name: p.Name, Path: p.Path, SHA256: p.SHA256, Config: p.Config, Timeout: p.Timeout, Env: p.Env}
	if role == sdk.RoleAnalyzer && cfg.Responder.Enabled {
		spec.ResponderActions = cfg.Responder.Actions
	}
	if spec.Path != "" {
		return spec, nil
	}
	if cfg.PluginDir != "" {
		candidate := filepath.Join(cfg.PluginDir, PluginFileName(role, p.Name))
		if st, err := os.Stat(candidate); err == nil && !st.IsDir() {
			spec.Path = candidate
			return spec, nil
		}
	}
	if builtin.Has(role, p.Name) {
		return spec, nil
	}
	return spec, config.Errors{{Pos: p.Pos, Msg: fmt.Sprintf(
		"no %s plugin %q: it is not built in, no path is set, and %s does not exist",
		role, p.Name, filepath.Join(cfg.PluginDir, PluginFileName(role, p.Name)))}}
}

// started is one running plugin with the block it came from.
type started struct {
	block  config.Plugin
	plugin *supervisor.Plugin
}

// startRole starts a role's enabled plugins. Configure errors come back as
// config.Errors at the positions of the offending keys, all of them at
// once, so that `hemostatd validate` shows every problem in one run.
// host, when not nil, is what the role's plugins call back into instead of
// the supervisor's default.
func startRole(ctx context.Context, sup *supervisor.Supervisor, cfg *config.Config, role string, blocks []config.Plugin, host sdk.Host) ([]started, error) {
	var out []started
	var errs config.Errors
	for _, p := range blocks {
		if !p.Enabled {
			continue
		}
		spec, err := Spec(cfg, role, p)
		if err != nil {
			errs = append(errs, asConfigErrors(err, p)...)
			continue
		}
		spec.Host = host
		plug, err := sup.Start(ctx, spec)
		if err != nil {
			errs = append(errs, asConfigErrors(err, p)...)
			continue
		}
		out = append(out, started{block: p, plugin: plug})
	}
	if len(errs) > 0 {
		return out, errs
	}
	return out, nil
}

func asConfigErrors(err error, p config.Plugin) config.Errors {
	var ces config.Errors
	if errors.As(err, &ces) {
		return ces
	}
	var perrs sdk.ConfigErrors
	if errors.As(err, &perrs) {
		out := make(config.Errors, len(perrs))
		for i, e := range perrs {
			msg := e.Message
			if e.Key != "" {
				msg = fmt.Sprintf("plugin %q: %s: %s", p.Name, e.Key, e.Message)
			} else {
				msg = fmt.Sprintf("plugin %q: %s", p.Name, e.Message)
			}
			out[i] = config.Error{Pos: p.KeyPos(e.Key), Msg: msg}
		}
		return out
	}
	return config.Errors{{Pos: p.Pos, Msg: fmt.Sprintf("plugin %q: %v", p.Name, err)}}
}
