package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Roles a plugin can play. A plugin binary serves exactly one.
const (
	RoleMonitor   = "monitor"
	RoleAnalyzer  = "analyzer"
	RoleResponder = "responder"
	RoleAlert     = "alert"
)

// Roles lists every role in flow order.
var Roles = []string{RoleMonitor, RoleAnalyzer, RoleResponder, RoleAlert}

// Plugin is implemented by every plugin, whatever its role.
type Plugin interface {
	// Configure receives the plugin's block from the config file as JSON
	// and a Host to call back into. It runs before any role method and
	// again whenever the plugin is restarted. A plugin that rejects its
	// settings returns ConfigErrors naming the offending keys so that the
	// host can point at the config file's line and column.
	Configure(ctx context.Context, config json.RawMessage, host Host) error
}

// Host is the narrow service hemostatd offers its plugins: the agent base
// class of the wire protocol.
type Host interface {
	// PublishEvent publishes an envelope of the given type on
	// hemostat:<type> and appends it to the type's event log.
	PublishEvent(ctx context.Context, eventType string, data any) error
	// GetSharedState reads hemostat:state:<key>; found is false when unset.
	GetSharedState(ctx context.Context, key string, into any) (found bool, err error)
	// SetSharedState writes hemostat:state:<key>.
	SetSharedState(ctx context.Context, key string, value any) error
}

// ExpiringState is implemented by the Host hemostatd hands its plugins:
// SetSharedState with a lifetime, after which the key is gone. State that
// only matters for a while (a chat thread of an incident) should use it
// rather than grow Redis forever.
type ExpiringState interface {
	SetSharedStateTTL(ctx context.Context, key string, value any, ttl time.Duration) error
}

// SetSharedStateTTL writes hemostat:state:<key> for ttl when host can
// expire keys, and without a lifetime when it cannot.
func SetSharedStateTTL(ctx context.Context, host Host, key string, value any, ttl time.Duration) error {
	if e, ok := host.(ExpiringState); ok && ttl > 0 {
		return e.SetSharedStateTTL(ctx, key, value, ttl)
	}
	return host.SetSharedState(ctx, key, value)
}

// Monitor watches containers and streams samples to the host.
type Monitor interface {
	Plugin
	// Watch emits samples until ctx is done. Lifecycle events are emitted
	// the moment they happen; resource samples on the plugin's interval.
	// A returned error other than ctx's makes the host restart the watch.
	Watch(ctx context.Context, emit func(Sample) error) error
}

// Analyzer judges one health alert.
type Analyzer interface {
	Plugin
	Analyze(ctx context.Context, req AnalyzeRequest) (Decision, error)
}

// Responder carries out remediation actions.
type Responder interface {
	Plugin
	// Capabilities lists the actions Remediate understands.
	Capabilities(ctx context.Context) ([]string, error)
	Remediate(ctx context.Context, req RemediateRequest) (Result, error)
}

// Notifier delivers notifications: the alert role.
type Notifier interface {
	Plugin
	Notify(ctx context.Context, n Notification) error
}

// ConfigError is one problem with a plugin's settings. Key is the
// attribute's name in the plugin's config block ("" for the block itself).
type ConfigError struct {
	Key     string `json:"key"`
	Message string `json:"message"`
}

func (e ConfigError) Error() string {
	if e.Key == "" {
		return e.Message
	}
	return e.Key + ": " + e.Message
}

// ConfigErrors is every problem Configure found, reported together.
type ConfigErrors []ConfigError

func (es ConfigErrors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "; ")
}

// DecodeConfig decodes a plugin's JSON settings into a struct, rejecting
// unknown keys so that a typo in the config file is an error, not a silent
// default. An empty config leaves into untouched.
func DecodeConfig(config json.RawMessage, into any) error {
	if len(config) == 0 || string(config) == "null" {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(string(config)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return configDecodeError(err)
	}
	return nil
}

func configDecodeError(err error) error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return ConfigErrors{{Key: typeErr.Field, Message: fmt.Sprintf("must be %s, not %s", typeErr.Type, typeErr.Value)}}
	}
	const unknown = "json: unknown field "
	if msg := err.Error(); strings.HasPrefix(msg, unknown) {
		key := strings.Trim(strings.TrimPrefix(msg, unknown), `"`)
		return ConfigErrors{{Key: key, Message: "unknown setting"}}
	}
	return ConfigErrors{{Message: err.Error()}}
}
