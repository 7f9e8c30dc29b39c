package supervisor

import (
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hemostat/hemostat/sdk"
	"github.com/prometheus/client_golang/prometheus"
)

// Options configure a Supervisor. The zero value works for external
// plugins; built-in plugins need Self.
type Options struct {
	// Logger receives the supervisor's logs and every plugin's, under
	// "plugin.<role>.<name>". Default hclog.L().
	Logger hclog.Logger
	// Self is hemostatd's own executable (os.Executable), re-run to serve
	// the built-in plugins.
	Self string
	// BuiltinArgs are the arguments that make Self serve a built-in
	// plugin; default DefaultBuiltinArgs.
	BuiltinArgs func(role, name string) []string
	// Host is served to every plugin through the go-plugin broker.
	Host sdk.Host
	// Registerer, when set, receives the supervisor's metrics.
	Registerer prometheus.Registerer
	// RestartInitial and RestartMax bound the backoff between restarts of
	// a failed plugin: RestartInitial doubling up to RestartMax, back to
	// RestartInitial once a plugin has run for a minute. Defaults 500ms
	// and 30s.
	RestartInitial, RestartMax time.Duration
	// PingInterval is how often a running plugin is pinged to catch a
	// hang; a plugin that does not answer within its Spec.Timeout is
	// killed and restarted. Default 5s.
	PingInterval time.Duration
	// OnEvent, when set, is told of every failure, restart and give-up
	// of a plugin. It is called on the plugin's watcher and must not
	// block.
	OnEvent func(Event)
}

// DefaultBuiltinArgs are the arguments hemostatd is re-run with to serve
// a built-in plugin: "plugin <role> <name>".
func DefaultBuiltinArgs(role, name string) []string {
	return []string{"plugin", role, name}
}

// Defaults of Options.
const (
	DefaultRestartInitial = 500 * time.Millisecond
	DefaultRestartMax     = 30 * time.Second
	DefaultPingInterval   = 5 * time.Second
)

// stableAfter is how long a plugin must run before a failure is treated
// as a first one again, resetting the restart backoff.
const stableAfter = time.Minute

// exitPollInterval is how often a plugin's process is checked for an
// exit; go-plugin offers a flag, not a notification.
const exitPollInterval = 200 * time.Millisecond

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = hclog.L()
	}
	if o.BuiltinArgs == nil {
		o.BuiltinArgs = DefaultBuiltinArgs
	}
	if o.RestartInitial <= 0 {
		o.RestartInitial = DefaultRestartInitial
	}
	if o.RestartMax <= 0 {
		o.RestartMax = DefaultRestartMax
	}
	o.RestartMax = max(o.RestartMax, o.RestartInitial)
	if o.PingInterval <= 0 {
		o.PingInterval = DefaultPingInterval
	}
	return o
}
