package dockerresponder

import (
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/hemostat/hemostat/sdk"
)

// Config is the plugin's block in the hemostatd config file.
type Config struct {
	// DockerHost overrides DOCKER_HOST ("unix:///var/run/docker.sock",
	// "tcp://127.0.0.1:2376"). TLS settings still come from the
	// environment (DOCKER_TLS_VERIFY, DOCKER_CERT_PATH).
	DockerHost string `json:"docker_host"`

	// StopTimeout is how long stop and restart wait for a container to
	// exit before the engine kills it. A container's label
	// hemostat.stop_timeout (whole seconds) takes precedence.
	StopTimeout Duration `json:"stop_timeout"`
	// VerifyTimeout bounds the wait for a restarted or started container
	// to run, and to be healthy when it has a healthcheck.
	VerifyTimeout Duration `json:"verify_timeout"`
	// StartGrace is the time after a container's start in which a restart
	// triggered by a resource threshold is skipped: a program warming up
	// is busy, not sick.
	StartGrace Duration `json:"start_grace"`
	// RestartDependents restarts the containers that share a restarted
	// container's network namespace; they lose their network otherwise.
	RestartDependents *bool `json:"restart_dependents"`
	// ProtectDependents is a list of path.Match globs over container
	// names. A dependent whose name matches one is never restarted: the
	// host's protected list guards the containers it is asked to act on,
	// not the dependents this plugin finds, so keep the two in sync.
	ProtectDependents []string `json:"protect_dependents"`

	// ResourceFactor multiplies a container's memory limit and CPU quota
	// in update_resources.
	ResourceFactor float64 `json:"resource_factor"`
	// MaxMemory caps a raised memory limit ("2g"). Zero caps it at the
	// engine host's total memory.
	MaxMemory ByteSize `json:"max_memory"`
	// MaxCPUs caps a raised CPU quota, in CPUs. Zero caps it at the engine
	// host's CPU count.
	MaxCPUs float64 `json:"max_cpus"`

	// ExecAllowlist is every command exec may run, each an argv list.
	ExecAllowlist [][]string `json:"exec_allowlist"`
	// ExecOutputLimit truncates an exec's combined stdout and stderr.
	ExecOutputLimit ByteSize `json:"exec_output_limit"`
	// ExecTimeout bounds an exec. The engine cannot kill an exec, so a
	// command that outlives it keeps running in the container.
	ExecTimeout Duration `json:"exec_timeout"`

	// CleanupVolumes removes the anonymous volumes of containers cleanup
	// removes.
	CleanupVolumes bool `json:"cleanup_volumes"`
	// MaxReplicas caps scale.
	MaxReplicas int `json:"max_replicas"`
}

// Defaults.
const (
	DefaultStopTimeout     = 10 * time.Second
	DefaultVerifyTimeout   = 60 * time.Second
	DefaultStartGrace      = 60 * time.Second
	DefaultResourceFactor  = 1.5
	DefaultExecOutputLimit = 4 << 10
	DefaultExecTimeout     = 30 * time.Second
	DefaultMaxReplicas     = 10

	// maxResourceFactor keeps one update_resources from handing a
	// container most of the host by a typo ("15" for "1.5").
	maxResourceFactor = 4
)

// DefaultProtectDependents mirrors the host's default protected list:
// hemostatd itself and its Redis.
func DefaultProtectDependents() []string { return []string{"hemostat*", "*redis*"} }

// DefaultConfig returns the settings used when the config block is empty.
func DefaultConfig() Config {
	yes := true
	return Config{
		StopTimeout:       Duration(DefaultStopTimeout),
		VerifyTimeout:     Duration(DefaultVerifyTimeout),
		StartGrace:        Duration(DefaultStartGrace),
		RestartDependents: &yes,
		ProtectDependents: DefaultProtectDependents(),
		ResourceFactor:    DefaultResourceFactor,
		ExecOutputLimit:   DefaultExecOutputLimit,
		ExecTimeout:       Duration(DefaultExecTimeout),
		MaxReplicas:       DefaultMaxReplicas,
	}
}

// ParseConfig decodes a config block over the defaults and validates it.
// Problems are reported together as sdk.ConfigErrors.
func ParseConfig(raw json.RawMessage) (Config, error) {
	cfg := DefaultConfig()
	if errs := valueErrors(raw); len(errs) > 0 {
		return Config{}, errs
	}
	if err := sdk.DecodeConfig(raw, &cfg); err != nil {
		return Config{}, err
	}
	if cfg.RestartDependents == nil {
		// An explicit null in the JSON clears the pointer.
		yes := true
		cfg.RestartDependents = &yes
	}
	if cfg.ProtectDependents == nil {
		// An explicit null; an empty list protects nothing.
		cfg.ProtectDependents = DefaultProtectDependents()
	}
	if errs := cfg.validate(); len(errs) > 0 {
		return Config{}, errs
	}
	return cfg, nil
}

func (c Config) validate() sdk.ConfigErrors {
	var errs sdk.ConfigErrors
	add := func(key, format string, args ...any) {
		errs = append(errs, sdk.ConfigError{Key: key, Message: fmt.Sprintf(format, args...)})
	}
	if c.StopTimeout < 0 {
		add("stop_timeout", "must not be negative")
	}
	if c.StopTimeout.Std()%time.Second != 0 {
		add("stop_timeout", "must be whole seconds (the engine counts in seconds)")
	}
	if c.VerifyTimeout <= 0 {
		add("verify_timeout", "must be positive")
	}
	if c.StartGrace < 0 {
		add("start_grace", "must not be negative")
	}
	for i, glob := range c.ProtectDependents {
		if _, err := path.Match(glob, ""); err != nil || strings.TrimSpace(glob) == "" {
			add("protect_dependents", "entry %d %q is not a glob pattern", i, glob)
		}
	}
	if c.ResourceFactor <= 1 || c.ResourceFactor > maxResourceFactor {
		add("resource_factor", "must be greater than 1 and at most %d, not %g", maxResourceFactor, c.ResourceFactor)
	}
	if c.MaxMemory < 0 {
		add("max_memory", "must not be negative")
	}
	if c.MaxCPUs < 0 {
		add("max_cpus", "must not be negative")
	}
	for i, argv := range c.ExecAllowlist {
		if len(argv) == 0 || strings.TrimSpace(argv[0]) == "" {
			add("exec_allowlist", "entry %d is empty; each entry is a command as a list of arguments", i)
		}
	}
	if c.ExecOutputLimit <= 0 {
		add("exec_output_limit", "must be positive")
	}
	if c.ExecTimeout <= 0 {
		add("exec_timeout", "must be positive")
	}
	if c.MaxReplicas < 1 {
		add("max_replicas", "must be at least 1")
	}
	return errs
}

// valueErrors parses the durations and sizes of a config block one key at
// a time: encoding/json drops the key from the error a custom unmarshaler
// returns, and the host needs the key to point at the config file's line.
func valueErrors(raw json.RawMessage) sdk.ConfigErrors {
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil {
		return nil // not an object: DecodeConfig reports it
	}
	var errs sdk.ConfigErrors
	for _, key := range []string{"stop_timeout", "verify_timeout", "start_grace", "exec_timeout", "max_memory", "exec_output_limit"} {
		value, ok := fields[key]
		if !ok {
			continue
		}
		var err error
		if key == "max_memory" || key == "exec_output_limit" {
			err = json.Unmarshal(value, new(ByteSize))
		} else {
			err = json.Unmarshal(value, new(Duration))
		}
		if err != nil {
			errs = append(errs, sdk.ConfigError{Key: key, Message: err.Error()})
		}
	}
	return errs
}
