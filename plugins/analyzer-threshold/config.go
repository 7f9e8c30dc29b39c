package threshold

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"

	"github.com/hemostat/hemostat/sdk"
)

// Config is the analyzer's settings, as decoded from its config block.
type Config struct {
	// CPUPct is the CPU line in percent: a container above it, and staying
	// there, is restarted.
	CPUPct float64
	// MemoryPct is the memory line in percent: a container above it whose
	// memory is still rising is restarted.
	MemoryPct float64
	// SpikeWindow is how many of the latest resource samples a trend is
	// judged over.
	SpikeWindow int
	// MemoryAction answers memory trouble — an OOM kill, or memory rising
	// above the line: "restart" (the default) hands the memory back for a
	// while; "update_resources" asks the responder to raise the limit,
	// for workloads that simply outgrew it.
	MemoryAction string
	// ResizeAllowed says the responder may raise a limit (update_resources
	// is on its allowlist). It is not a setting: Configure reads it from
	// what the host says of the responder. A steady load near the limit is
	// then answered with a raised limit instead of a capacity warning.
	ResizeAllowed bool
}

// DefaultConfig is what an empty config block means.
func DefaultConfig() Config {
	return Config{
		CPUPct:       85,
		MemoryPct:    70,
		SpikeWindow:  6,
		MemoryAction: sdk.ActionRestart,
	}
}

// Limits on the settings. CPU percent may exceed 100 (a container using
// more than one core), but not by more than any real machine has cores.
const (
	maxCPUPct      = 100 * 1024
	maxSpikeWindow = 1000
	minSpikeWindow = 2 // a trend needs two points
)

// rawConfig is the config block with every value kept raw, so that each
// key is checked on its own and every bad one is reported, not only the
// first the JSON decoder trips over.
type rawConfig struct {
	CPUPct    json.RawMessage `json:"cpu_pct"`
	MemoryPct json.RawMessage `json:"memory_pct"`
	// Removed keys, kept to say where their setting went.
	RestartLoopCount  json.RawMessage `json:"restart_loop_count"`
	RestartLoopWindow json.RawMessage `json:"restart_loop_window"`
	SpikeWindow       json.RawMessage `json:"spike_window"`
	MemoryAction      json.RawMessage `json:"memory_action"`
}

// ParseConfig decodes and validates a config block. Unknown keys are
// rejected; every invalid value is reported as an sdk.ConfigError naming
// its key. Missing or null keys take their defaults.
func ParseConfig(raw json.RawMessage) (Config, error) {
	var rc rawConfig
	if err := sdk.DecodeConfig(raw, &rc); err != nil {
		return Config{}, err
	}
	cfg := DefaultConfig()
	var errs sdk.ConfigErrors
	check := func(err *sdk.ConfigError) {
		if err != nil {
			errs = append(errs, *err)
		}
	}
	check(decodePct("cpu_pct", rc.CPUPct, maxCPUPct, &cfg.CPUPct))
	check(decodePct("memory_pct", rc.MemoryPct, 100, &cfg.MemoryPct))
	check(removed("restart_loop_count", rc.RestartLoopCount))
	check(removed("restart_loop_window", rc.RestartLoopWindow))
	check(decodeCount("spike_window", rc.SpikeWindow, minSpikeWindow, maxSpikeWindow, &cfg.SpikeWindow))
	check(decodeChoice("memory_action", rc.MemoryAction, []string{sdk.ActionRestart, sdk.ActionUpdateResources}, &cfg.MemoryAction))
	if len(errs) > 0 {
		return Config{}, errs
	}
	return cfg, nil
}

// removedRestartLoop says where the analyzer's restart-loop settings went.
const removedRestartLoop = "removed: a restart loop is set in one place, the responder's breaker { max_actions, window }"

// removed rejects a key that no longer exists, naming what replaced it.
func removed(key string, raw json.RawMessage) *sdk.ConfigError {
	if isUnset(raw) {
		return nil
	}
	return &sdk.ConfigError{Key: key, Message: removedRestartLoop}
}

func isUnset(raw json.RawMessage) bool {
	return len(raw) == 0 || bytes.Equal(raw, []byte("null"))
}

// decodePct reads a percentage in (0, max].
func decodePct(key string, raw json.RawMessage, max float64, into *float64) *sdk.ConfigError {
	if isUnset(raw) {
		return nil
	}
	var v float64
	if err := json.Unmarshal(raw, &v); err != nil {
		return &sdk.ConfigError{Key: key, Message: fmt.Sprintf("must be a number of percent, not %s", raw)}
	}
	if !(v > 0 && v <= max) {
		return &sdk.ConfigError{Key: key, Message: fmt.Sprintf("must be above 0 and at most %s, not %s", formatPct(max), formatPct(v))}
	}
	*into = v
	return nil
}

// decodeCount reads a whole number in [min, max].
func decodeCount(key string, raw json.RawMessage, min, max int, into *int) *sdk.ConfigError {
	if isUnset(raw) {
		return nil
	}
	var v float64
	if err := json.Unmarshal(raw, &v); err != nil || v != math.Trunc(v) {
		return &sdk.ConfigError{Key: key, Message: fmt.Sprintf("must be a whole number, not %s", raw)}
	}
	if v < float64(min) || v > float64(max) {
		return &sdk.ConfigError{Key: key, Message: fmt.Sprintf("must be between %d and %d, not %s", min, max, raw)}
	}
	*into = int(v)
	return nil
}

// decodeChoice reads a string that must be one of choices.
func decodeChoice(key string, raw json.RawMessage, choices []string, into *string) *sdk.ConfigError {
	if isUnset(raw) {
		return nil
	}
	var v string
	if err := json.Unmarshal(raw, &v); err == nil {
		for _, c := range choices {
			if v == c {
				*into = v
				return nil
			}
		}
	}
	return &sdk.ConfigError{Key: key, Message: fmt.Sprintf("must be one of %q, not %s", choices, raw)}
}
