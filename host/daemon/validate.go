package daemon

import (
	"context"

	"github.com/hashicorp/go-hclog"
	"github.com/hemostat/hemostat/host/config"
	"github.com/hemostat/hemostat/host/supervisor"
	"github.com/hemostat/hemostat/sdk"
)

// Validate checks a loaded configuration the way the daemon would use it:
// every enabled plugin is resolved, launched and handed its settings, and
// every problem comes back as config.Errors at its file position. Plugins
// are stopped again before it returns. No Redis is needed.
func Validate(ctx context.Context, cfg *config.Config, self string, log hclog.Logger) error {
	sup := supervisor.New(supervisor.Options{Logger: log, Self: self, Host: nil})
	defer sup.Stop(context.WithoutCancel(ctx))
	var errs config.Errors
	for _, r := range []struct {
		role    string
		enabled bool
		blocks  []config.Plugin
	}{
		{sdk.RoleMonitor, cfg.Monitor.Enabled, cfg.Monitor.Plugins},
		{sdk.RoleAnalyzer, cfg.Analyzer.Enabled, cfg.Analyzer.Plugins},
		{sdk.RoleResponder, cfg.Responder.Enabled, cfg.Responder.Plugins},
		{sdk.RoleAlert, cfg.Alert.Enabled, cfg.Alert.Plugins},
	} {
		if !r.enabled {
			continue
		}
		if _, err := startRole(ctx, sup, cfg, r.role, r.blocks, nil); err != nil {
			errs = append(errs, asConfigErrors(err, config.Plugin{})...)
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}
