package config

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"time"
)

// Config is hemostatd's whole configuration.
type Config struct {
	// File is the path the configuration was loaded from, "" for Default.
	File string
	// LogLevel is one of trace, debug, info, warn, error.
	LogLevel string
	// LogFormat is text or json.
	LogFormat string
	// DataDir holds hemostatd's own files, such as the embedded Redis's
	// address (RedisAddrFile); DefaultDataDir when not set.
	DataDir string
	// PluginDir holds custom plugin binaries named hemostat-<role>-<name>;
	// <DataDir>/plugins when not set.
	PluginDir string
	// Host names this daemon's Docker host on the bus: every envelope it
	// publishes carries it as data.host, and in a fleet it qualifies
	// container names. "" means the engine's own name (docker info), or
	// the machine's host name when the engine cannot say.
	Host string
	// Fleet names containers "<host>/<name>" on the wire and in every key,
	// so that several hemostatd, one per Docker host, share one Redis
	// without their same-named containers colliding; false keeps the
	// protocol's bare names, for a single host.
	Fleet bool

	Redis     Redis
	Lease     Lease
	HTTP      HTTP
	Monitor   Monitor
	Analyzer  Analyzer
	Responder Responder
	Alert     Alert
}

// Redis is where the roles meet. No address means an embedded in-process
// Redis on loopback, so the daemon runs alone.
type Redis struct {
	// Addresses are host:port pairs: one for a single server, several for a
	// cluster, or the sentinels when SentinelMaster is set.
	Addresses      []string
	SentinelMaster string
	Username       string
	Password       string
	DB             int
	TLS            TLS
	// Delivery is how hemostatd's roles receive envelopes: DeliveryPubSub,
	// the protocol's channels, or DeliveryStreams, which also appends every
	// envelope to a capped stream per type and reads those through consumer
	// groups, so that work survives a role or hemostatd restarting.
	Delivery string
	// ClaimMinIdle is how long a stream entry stays pending with a consumer
	// before another consumer may claim it: longer than the slowest
	// handling, so that work under way is not taken over.
	ClaimMinIdle time.Duration
}

// Delivery modes.
const (
	DeliveryPubSub  = "pubsub"
	DeliveryStreams = "streams"
)

// TLS secures the connection to Redis.
type TLS struct {
	Enabled            bool
	CAFile             string
	CertFile           string
	KeyFile            string
	ServerName         string
	InsecureSkipVerify bool
}

// HTTP serves the dashboard, the JSON API and /metrics.
type HTTP struct {
	// Address is host:port; "" disables the server.
	Address string
	// Token is required from clients; it must be set when Address is not a
	// loopback address.
	Token string
	// Pprof serves Go's runtime profiles under /debug/pprof/ (behind the
	// token), for explaining where a burst's time goes.
	Pprof bool
}

// Monitor is the role that watches containers and raises health alerts.
type Monitor struct {
	Enabled   bool
	CPUPct    float64
	MemoryPct float64
	// Sustain is how long a threshold breach must last before an alert, so
	// one spike is not an alert.
	Sustain time.Duration
	// Grace is how long resource thresholds wait after a container starts.
	Grace time.Duration
	// Realert is how often, at most, the same issue is alerted again while a
	// container stays sick (and never after it recovered or was acted on).
	Realert time.Duration
	// LeakForecast alerts a memory leak at once, before the OOM kill, when
	// a line fitted to the container's last LeakSamples memory figures
	// reaches its limit within LeakHorizon.
	LeakForecast bool
	// LeakHorizon is how far ahead a leak is alerted: a few sampling
	// intervals plus the time a restart takes.
	LeakHorizon time.Duration
	// LeakSamples is how many of the newest samples the line is fitted to.
	LeakSamples int
	Plugins     []Plugin
}

// Analyzer is the role that judges alerts.
type Analyzer struct {
	Enabled bool
	// Workers is how many alerts, for different containers, are judged at
	// once; alerts for one container are judged in order.
	Workers int
	// Plugins is the chain, asked in order until one does not abstain.
	Plugins []Plugin
}

// Responder is the role that fixes containers, behind a safety gate.
type Responder struct {
	Enabled bool
	DryRun  bool
	// MinConfidence is the least confidence a decision needs to be acted on.
	MinConfidence float64
	// Actions is the allowlist of actions the responder may take.
	Actions []string
	// Protected are container names or globs (path.Match) never touched.
	Protected []string
	// RequireOptIn limits remediation to containers labelled
	// hemostat.enable=true.
	RequireOptIn bool
	Backoff      Backoff
	// Cooldown, when positive, is a flat wait between actions on a container
	// that replaces Backoff.
	Cooldown time.Duration
	Breaker  Breaker
	Plugins  []Plugin
}

// Backoff is the per-container wait between actions: Initial, doubled after
// each action up to Max, and back to Initial once a container has stayed
// healthy for ResetAfter.
type Backoff struct {
	Initial    time.Duration
	Max        time.Duration
	ResetAfter time.Duration
}

// Breaker opens after MaxActions actions within Window; while it is open the
// responder escalates instead of acting.
type Breaker struct {
	MaxActions int
	Window     time.Duration
}

// Alert is the role that tells people. The built-in log alert always runs;
// Plugins are extra channels such as Slack.
type Alert struct {
	Enabled bool
	// DedupeWindow groups the notifications of one incident (a container,
	// a kind of news, a host): the first is sent at once, the rest of the
	// window as one message with their count. 0 sends every one.
	DedupeWindow time.Duration
	Storm        Storm
	Trouble      Trouble
	// Silences are applied to the shared silence store at start-up.
	Silences []Silence
	Plugins  []Plugin
}

// Trouble says when hemostatd tells the alert plugins of its own trouble:
// Redis unreachable for longer than RedisGrace; a plugin failing again
// before it ran PluginStable since its last restart (and recovered once
// it runs that long); the same trouble at most once per Repeat.
type Trouble struct {
	RedisGrace   time.Duration
	PluginStable time.Duration
	Repeat       time.Duration
}

// Storm: when Containers or more containers are reported within Window,
// what follows is collected for Wait and sent as one summary. Containers 0
// turns it off.
type Storm struct {
	Containers int
	Window     time.Duration
	Wait       time.Duration
}

// Silence is a silence written in the config file.
type Silence struct {
	// Containers is a name or glob (path.Match).
	Containers string
	// Event is an event type or notification kind; "" for every one.
	Event   string
	Until   time.Time
	Comment string
	Pos     Pos
}

// Plugin is one plugin block: plugin "<name>" { ... }.
type Plugin struct {
	// Name is the block's label.
	Name string
	// Path is the plugin's executable; when empty it is
	// <plugin_dir>/hemostat-<role>-<name> if that exists, else the built-in.
	Path string
	// SHA256 pins the executable's checksum (lower-case hex).
	SHA256 string
	// Timeout bounds each call; a monitor's Watch stream has none.
	Timeout time.Duration
	Enabled bool
	// Events are the event types routed to an alert plugin; every type by
	// default. Empty for the other roles.
	Events []string
	// MinSeverity is the least severity routed to an alert plugin, "info"
	// by default. Empty for the other roles.
	MinSeverity string
	// Containers are name globs routed to an alert plugin; empty for every
	// container.
	Containers []string
	// Env names variables of hemostatd's environment the plugin inherits
	// beyond the minimal set every plugin starts with.
	Env []string
	// Config is the nested config block as a JSON object, "{}" when absent.
	Config json.RawMessage
	// Ranges maps each attribute of the config block to its position.
	Ranges map[string]Pos
	// Pos is the position of the plugin block.
	Pos Pos

	// secretKeys are config attributes whose values came from env(); Redacted
	// hides them, and those named like credentials.
	secretKeys []string
}

// KeyPos is the position of a config attribute, so that an error a plugin
// reports about key is printed where key is written. A key inside a nested
// value ("headers.auth", "urls[1]") is placed at its top-level attribute.
// It is the block's position when key is "" or not written in the file.
func (p Plugin) KeyPos(key string) Pos {
	if pos, ok := p.Ranges[key]; ok && key != "" {
		return pos
	}
	if i := strings.IndexAny(key, ".["); i > 0 {
		if pos, ok := p.Ranges[key[:i]]; ok {
			return pos
		}
	}
	return p.Pos
}

// RedisAddrFile is the file in DataDir where a running hemostatd writes
// its embedded Redis's address, so that `hemostatd status` and `events`
// find it.
func (c *Config) RedisAddrFile() string { return filepath.Join(c.DataDir, "redis.addr") }
