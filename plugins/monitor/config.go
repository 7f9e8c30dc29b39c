package monitor

import (
	"fmt"
	"path"
	"time"

	"github.com/docker/docker/client"
	"github.com/hemostat/hemostat/sdk"
	"github.com/hemostat/hemostat/sdk/redact"
)

// Sampler names accepted by the sampler setting.
const (
	SamplerAuto   = "auto"
	SamplerCgroup = "cgroup"
	SamplerAPI    = "api"
)

// Scopes accepted by the scope setting.
const (
	// ScopeAll reports every container except those labelled
	// hemostat.enable=false.
	ScopeAll = "all"
	// ScopeOptIn reports only containers labelled hemostat.enable=true.
	ScopeOptIn = "opt_in"
)

// Labels the plugin reads from containers.
const (
	LabelEnable = sdk.LabelEnable
)

// Config is the plugin's block in hemostatd's config file.
type Config struct {
	// DockerHost overrides DOCKER_HOST, e.g. "unix:///var/run/docker.sock"
	// or "tcp://127.0.0.1:2375". Empty: the environment decides.
	DockerHost string `json:"docker_host"`
	// Interval between resource samples, a Go duration. Default "5s".
	Interval string `json:"interval"`
	// Concurrency bounds how many containers are sampled at once. Default 8.
	Concurrency int `json:"concurrency"`
	// Sampler is "auto" (cgroup files when readable, else the Engine API),
	// "cgroup" or "api". Default "auto".
	Sampler string `json:"sampler"`
	// CgroupRoot is where the host's cgroup hierarchy is mounted. Default
	// "/sys/fs/cgroup"; set it when hemostatd runs in a container with the
	// host's hierarchy mounted elsewhere.
	CgroupRoot string `json:"cgroup_root"`
	// Scope is "all" or "opt_in". Default "all".
	Scope string `json:"scope"`
	// Exclude lists container names (globs, path.Match syntax) never
	// reported.
	Exclude []string `json:"exclude"`
	// LogTailLines is how many of a container's last log lines ride along
	// with die, oom and unhealthy samples. Default 20; 0 disables.
	LogTailLines *int `json:"log_tail_lines"`
	// RedactPatterns are extra Go regular expressions for secrets the
	// default rules (sdk/redact) do not know; in a match the first capture
	// group, or the whole match, is hidden from the log tail.
	RedactPatterns []string `json:"redact_patterns"`
}

// Defaults.
const (
	DefaultInterval     = 5 * time.Second
	DefaultConcurrency  = 8
	DefaultLogTailLines = 20
	DefaultCgroupRoot   = "/sys/fs/cgroup"

	minInterval     = 100 * time.Millisecond
	maxConcurrency  = 256
	maxLogTailLines = 1000
)

// settings is a validated Config with defaults applied.
type settings struct {
	dockerHost   string
	interval     time.Duration
	concurrency  int
	sampler      string
	cgroupRoot   string
	scope        string
	exclude      []string
	logTailLines int
	redactor     *redact.Redactor
}

func defaultSettings() settings {
	return settings{
		interval:     DefaultInterval,
		concurrency:  DefaultConcurrency,
		sampler:      SamplerAuto,
		cgroupRoot:   DefaultCgroupRoot,
		scope:        ScopeAll,
		logTailLines: DefaultLogTailLines,
		redactor:     redact.Default(),
	}
}

// parseConfig validates c and applies defaults, reporting every problem at
// once so that the config file can be fixed in one go.
func parseConfig(c Config) (settings, error) {
	s := defaultSettings()
	var errs sdk.ConfigErrors
	bad := func(key, format string, args ...any) {
		errs = append(errs, sdk.ConfigError{Key: key, Message: fmt.Sprintf(format, args...)})
	}

	if c.DockerHost != "" {
		if _, err := client.ParseHostURL(c.DockerHost); err != nil {
			bad("docker_host", "%v", err)
		}
		s.dockerHost = c.DockerHost
	}
	if c.Interval != "" {
		d, err := time.ParseDuration(c.Interval)
		switch {
		case err != nil:
			bad("interval", "must be a duration such as \"5s\": %v", err)
		case d < minInterval:
			bad("interval", "must be at least %s, not %s", minInterval, d)
		default:
			s.interval = d
		}
	}
	if c.Concurrency != 0 {
		if c.Concurrency < 1 || c.Concurrency > maxConcurrency {
			bad("concurrency", "must be between 1 and %d, not %d", maxConcurrency, c.Concurrency)
		} else {
			s.concurrency = c.Concurrency
		}
	}
	switch c.Sampler {
	case "":
	case SamplerAuto, SamplerCgroup, SamplerAPI:
		s.sampler = c.Sampler
	default:
		bad("sampler", "must be %q, %q or %q, not %q", SamplerAuto, SamplerCgroup, SamplerAPI, c.Sampler)
	}
	if c.CgroupRoot != "" {
		if !path.IsAbs(c.CgroupRoot) {
			bad("cgroup_root", "must be an absolute path, not %q", c.CgroupRoot)
		}
		s.cgroupRoot = path.Clean(c.CgroupRoot)
	}
	switch c.Scope {
	case "":
	case ScopeAll, ScopeOptIn:
		s.scope = c.Scope
	default:
		bad("scope", "must be %q or %q, not %q", ScopeAll, ScopeOptIn, c.Scope)
	}
	for _, g := range c.Exclude {
		if g == "" {
			bad("exclude", "an empty pattern matches nothing")
			continue
		}
		if _, err := path.Match(g, ""); err != nil {
			bad("exclude", "bad pattern %q: %v", g, err)
		}
	}
	s.exclude = append([]string(nil), c.Exclude...)
	if c.LogTailLines != nil {
		if n := *c.LogTailLines; n < 0 || n > maxLogTailLines {
			bad("log_tail_lines", "must be between 0 and %d, not %d", maxLogTailLines, n)
		} else {
			s.logTailLines = n
		}
	}
	if len(c.RedactPatterns) > 0 {
		r, err := redact.New(c.RedactPatterns...)
		if err != nil {
			bad("redact_patterns", "%v", err)
		} else {
			s.redactor = r
		}
	}
	if len(errs) > 0 {
		return settings{}, errs
	}
	return s, nil
}
