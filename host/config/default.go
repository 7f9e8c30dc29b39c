package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/sdk"
)

// Defaults that are shared by several settings or worth naming.
const (
	DefaultHTTPAddress   = "127.0.0.1:9090"
	DefaultPluginTimeout = 10 * time.Second
	// DefaultResponderTimeout is longer: a restart waits for the stop
	// timeout and then for the container to be running and healthy again.
	DefaultResponderTimeout = 2 * time.Minute
	// DefaultClaimMinIdle outlasts the responder's timeout, the slowest
	// handling there is, so a live consumer's entry is never claimed.
	DefaultClaimMinIdle = 3 * time.Minute
)

// Default is the configuration used when there is no file, and the base
// that a file's settings are laid over. Each call returns a new Config.
func Default() *Config {
	return &Config{
		LogLevel:  "info",
		LogFormat: "text",
		DataDir:   DefaultDataDir(),
		PluginDir: filepath.Join(DefaultDataDir(), "plugins"),
		HTTP:      HTTP{Address: DefaultHTTPAddress},
		Lease:     Lease{Enabled: true, TTL: DefaultLeaseTTL},
		Redis:     Redis{Delivery: DeliveryPubSub, ClaimMinIdle: DefaultClaimMinIdle},
		Monitor: Monitor{
			Enabled:   true,
			CPUPct:    85,
			MemoryPct: 90,
			Sustain:   30 * time.Second,
			Grace:     60 * time.Second,
			Realert:   5 * time.Minute,
			// Three 5 s samples to act on, and 15 s for the
			// restart: the default stop timeout and a start.
			LeakForecast: true,
			LeakHorizon:  30 * time.Second,
			LeakSamples:  6,
			Plugins:      []Plugin{defaultPlugin("docker")},
		},
		Analyzer: Analyzer{
			Enabled: true,
			// Sized for slow analyzers: an LLM call takes seconds.
			Workers: 64,
			Plugins: []Plugin{defaultPlugin("threshold")},
		},
		Responder: Responder{
			Enabled:       true,
			MinConfidence: 0.7,
			Actions:       []string{sdk.ActionRestart, sdk.ActionStart, sdk.ActionUnpause},
			Protected:     []string{"hemostat*", "*redis*"},
			// Kubernetes' CrashLoopBackOff numbers.
			Backoff: Backoff{Initial: 10 * time.Second, Max: 5 * time.Minute, ResetAfter: 10 * time.Minute},
			Breaker: Breaker{MaxActions: 5, Window: time.Hour},
			Plugins: []Plugin{defaultResponderPlugin("docker")},
		},
		Alert: Alert{
			Enabled:      true,
			DedupeWindow: 5 * time.Minute,
			Storm:        Storm{Containers: 5, Window: time.Minute, Wait: 10 * time.Second},
			// A minute, as the supervisor's own notion of a plugin that
			// runs well; an hour between reminders, as Alertmanager's
			// repeat_interval defaults to four.
			Trouble: Trouble{RedisGrace: 30 * time.Second, PluginStable: time.Minute, Repeat: time.Hour},
		},
	}
}

// defaultPlugin is a plugin block with nothing in it but its name.
func defaultPlugin(name string) Plugin {
	return Plugin{
		Name:    name,
		Timeout: DefaultPluginTimeout,
		Enabled: true,
		Config:  json.RawMessage("{}"),
	}
}

// defaultAlertPlugin adds the alert routing defaults: every event type, every
// severity.
func defaultAlertPlugin(name string) Plugin {
	p := defaultPlugin(name)
	p.Events = append([]string(nil), protocol.LoggedTypes...)
	p.MinSeverity = sdk.SeverityInfo
	return p
}

// defaultResponderPlugin gives a responder the longer call deadline.
func defaultResponderPlugin(name string) Plugin {
	p := defaultPlugin(name)
	p.Timeout = DefaultResponderTimeout
	return p
}

// DefaultDataDir is where hemostatd keeps its files when data_dir is not
// set: $XDG_DATA_HOME/hemostat, else ~/.local/share/hemostat (the XDG Base
// Directory default), else /var/lib/hemostat for a user without a home
// (root in an empty container image). Never a folder of the source tree, so
// that running hemostatd from a checkout does not take its source folders
// for plugins.
func DefaultDataDir() string {
	if x := os.Getenv("XDG_DATA_HOME"); filepath.IsAbs(x) {
		return filepath.Join(x, "hemostat")
	}
	if home, err := os.UserHomeDir(); err == nil && filepath.IsAbs(home) && home != "/" {
		return filepath.Join(home, ".local", "share", "hemostat")
	}
	return "/var/lib/hemostat"
}
