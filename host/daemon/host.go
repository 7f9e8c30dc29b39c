package daemon

import (
	"context"
	"encoding/json"
	"time"

	"github.com/hemostat/hemostat/host/bus"
	"github.com/hemostat/hemostat/host/config"
	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/host/role"
	"github.com/hemostat/hemostat/sdk"
	"github.com/prometheus/client_golang/prometheus"
)

// pluginHost is the sdk.Host every plugin gets through the broker: the
// protocol's agent base class, backed by the bus.
type pluginHost struct {
	bus *bus.Bus
	// fleet qualifies the container a plugin's event names: a plugin runs
	// on this host, so any container it names is this host's.
	fleet role.Fleet
	// foreign counts the operations of other engine clients that
	// responders report in foreign_action events.
	foreign prometheus.Counter
}

// agentFor names the publisher of a plugin-published event by its type, so
// that envelopes stay attributable to a role.
func agentFor(eventType string) string {
	switch eventType {
	case protocol.TypeHealthAlert:
		return protocol.AgentMonitor
	case protocol.TypeRemediationNeeded, protocol.TypeFalseAlarm:
		return protocol.AgentAnalyzer
	case protocol.TypeRemediationComplete, protocol.TypeForeignAction:
		return protocol.AgentResponder
	}
	return protocol.AgentAlert
}

func (h pluginHost) PublishEvent(ctx context.Context, eventType string, data any) error {
	if eventType == protocol.TypeForeignAction {
		h.countForeign(data)
	}
	_, err := h.bus.Publish(ctx, agentFor(eventType), eventType, h.qualified(data))
	return err
}

// qualified names data's container as the fleet does; data is returned
// as it is in a single host, or when it names no container.
func (h pluginHost) qualified(data any) any {
	if !h.fleet.Enabled {
		return data
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return data // Publish reports it
	}
	var fields map[string]json.RawMessage
	var container string
	if json.Unmarshal(raw, &fields) != nil || json.Unmarshal(fields["container"], &container) != nil || container == "" {
		return data
	}
	q, _ := json.Marshal(h.fleet.Qualify(container))
	fields["container"] = q
	return fields
}

// pluginHost is the host every plugin gets.
func (d *Daemon) pluginHost() pluginHost {
	return pluginHost{bus: d.bus, foreign: d.foreign, fleet: d.fleet}
}

// countForeign adds a foreign_action's count to the metric before it is
// published, so that a Redis outage does not hide another healer.
func (h pluginHost) countForeign(data any) {
	if h.foreign == nil {
		return
	}
	var fa sdk.ForeignAction
	if raw, err := json.Marshal(data); err == nil {
		_ = json.Unmarshal(raw, &fa)
	}
	h.foreign.Add(float64(max(fa.Count, 1)))
}

func (h pluginHost) GetSharedState(ctx context.Context, key string, into any) (bool, error) {
	raw, ok, err := h.bus.GetState(ctx, key)
	if err != nil || !ok {
		return false, err
	}
	return true, json.Unmarshal(raw, into)
}

func (h pluginHost) SetSharedState(ctx context.Context, key string, value any) error {
	raw, err := json.Marshal(value)
	if err != nil {
		return err
	}
	return h.bus.SetState(ctx, key, raw, 0)
}

var _ sdk.Host = pluginHost{}

// responderHost is the host responder plugins get: it carries the safety
// policy of c, which they apply to the container each request resolves to.
func (d *Daemon) responderHost(c config.Responder) sdk.Host {
	return sdk.WithSafetyPolicy(d.pluginHost(), Policy(c).Safety())
}

func (h pluginHost) SetSharedStateTTL(ctx context.Context, key string, value any, ttl time.Duration) error {
	raw, err := json.Marshal(value)
	if err != nil {
		return err
	}
	return h.bus.SetState(ctx, key, raw, ttl)
}

var _ sdk.ExpiringState = pluginHost{}
