package supervisor

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hemostat/hemostat/sdk"
)

// DefaultTimeout bounds every call to a plugin whose Spec sets none.
const DefaultTimeout = 10 * time.Second

// Spec says which plugin to run and how.
type Spec struct {
	// Role is one of sdk.Roles.
	Role string
	// Name is the plugin's name in the config file, logs and metrics.
	Name string
	// Path is the plugin's executable. Empty means a built-in plugin:
	// hemostatd's own binary (Options.Self) run with
	// Options.BuiltinArgs(Role, Name).
	Path string
	// SHA256 optionally pins the executable to this hex digest; a binary
	// that does not match is not started.
	SHA256 string
	// Config is handed to the plugin's Configure on every (re)start.
	Config json.RawMessage
	// ResponderActions is the responder role's action allowlist, handed to
	// the plugin with its settings (sdk.ResponderActions) so that an
	// analyzer proposes nothing the responder would refuse.
	ResponderActions []string
	// Timeout is the deadline of every call to the plugin, and of its
	// start when longer than DefaultTimeout; DefaultTimeout when zero.
	// Monitor.Watch streams have none.
	Timeout time.Duration
	// Env names variables of hemostatd's environment the plugin inherits
	// beyond the minimal set every plugin gets (see baseEnv).
	Env []string
	// Host, when set, replaces Options.Host for this plugin: a responder
	// gets one carrying the safety policy (sdk.WithSafetyPolicy).
	Host sdk.Host
}

// label names the plugin in errors and logs: "analyzer.llm".
func (s Spec) label() string { return s.Role + "." + s.Name }

// Normalized checks the spec and fills in defaults, as Start does: what
// Plugin.Spec returns for a plugin started with s.
func (s Spec) Normalized() (Spec, error) { return s.normalize() }

// normalize checks the spec and fills in defaults.
func (s Spec) normalize() (Spec, error) {
	var errs []error
	if !slices.Contains(sdk.Roles, s.Role) {
		errs = append(errs, fmt.Errorf("role %q is not one of %v", s.Role, sdk.Roles))
	}
	if s.Name == "" {
		errs = append(errs, errors.New("name is empty"))
	}
	for _, name := range s.Env {
		if msg := ValidEnvName(name); msg != "" {
			errs = append(errs, fmt.Errorf("env: %s", msg))
		}
	}
	if s.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout %s is negative", s.Timeout))
	}
	if s.SHA256 != "" {
		if _, err := decodeSHA256(s.SHA256); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return s, fmt.Errorf("plugin %s: invalid spec: %w", s.label(), errors.Join(errs...))
	}
	if s.Timeout == 0 {
		s.Timeout = DefaultTimeout
	}
	return s, nil
}
