package sdk

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-plugin"
)

// Harness runs a plugin in-process behind a real gRPC connection, broker
// included, so that a plugin's tests exercise exactly the wire path hemostatd
// uses without building a binary.
type Harness struct {
	// Host records what the plugin publishes and stores.
	Host *MemoryHost
	// Client is the host's handle on the plugin: a *MonitorClient,
	// *AnalyzerClient, *ResponderClient or *NotifierClient.
	Client Base
}

// NewHarness starts impl in-process; the connection is closed when the test
// ends.
func NewHarness(t testing.TB, impl Plugin) *Harness {
	t.Helper()
	set, err := servedPlugins(Info{Name: "harness", Version: "test"}, impl)
	if err != nil {
		t.Fatal(err)
	}
	client, _ := plugin.TestPluginGRPCConn(t, false, set)
	t.Cleanup(func() { client.Close() })
	var role string
	for r := range set {
		role = r
	}
	raw, err := client.Dispense(role)
	if err != nil {
		t.Fatalf("dispense %s: %v", role, err)
	}
	return &Harness{Host: NewMemoryHost(), Client: raw.(Base)}
}

// Configure sends settings (any JSON-encodable value) to the plugin with the
// harness's MemoryHost as its host.
func (h *Harness) Configure(ctx context.Context, settings any) error {
	raw, err := json.Marshal(settings)
	if err != nil {
		return err
	}
	return h.Client.Configure(ctx, raw, h.Host)
}

// Monitor returns the plugin as a Monitor; it panics if it is not one.
func (h *Harness) Monitor() *MonitorClient { return h.Client.(*MonitorClient) }

// Analyzer returns the plugin as an Analyzer; it panics if it is not one.
func (h *Harness) Analyzer() *AnalyzerClient { return h.Client.(*AnalyzerClient) }

// Responder returns the plugin as a Responder; it panics if it is not one.
func (h *Harness) Responder() *ResponderClient { return h.Client.(*ResponderClient) }

// Notifier returns the plugin as a Notifier; it panics if it is not one.
func (h *Harness) Notifier() *NotifierClient { return h.Client.(*NotifierClient) }

// PublishedEvent is one PublishEvent call seen by a MemoryHost.
type PublishedEvent struct {
	Type string
	Data json.RawMessage
}

// MemoryHost is a Host that keeps everything in memory, for tests.
type MemoryHost struct {
	mu     sync.Mutex
	events []PublishedEvent
	state  map[string]json.RawMessage
	ttls   map[string]time.Duration
}

// NewMemoryHost returns an empty MemoryHost.
func NewMemoryHost() *MemoryHost {
	return &MemoryHost{state: map[string]json.RawMessage{}, ttls: map[string]time.Duration{}}
}

// PublishEvent records the event.
func (m *MemoryHost) PublishEvent(_ context.Context, eventType string, data any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.events = append(m.events, PublishedEvent{Type: eventType, Data: raw})
	m.mu.Unlock()
	return nil
}

// Events returns every event published so far.
func (m *MemoryHost) Events() []PublishedEvent {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]PublishedEvent(nil), m.events...)
}

// GetSharedState reads a stored value.
func (m *MemoryHost) GetSharedState(_ context.Context, key string, into any) (bool, error) {
	m.mu.Lock()
	raw, ok := m.state[key]
	m.mu.Unlock()
	if !ok {
		return false, nil
	}
	return true, json.Unmarshal(raw, into)
}

// SetSharedState stores a value.
func (m *MemoryHost) SetSharedState(_ context.Context, key string, value any) error {
	raw, err := json.Marshal(value)
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.state[key] = raw
	m.mu.Unlock()
	return nil
}

// SetSharedStateTTL stores a value and remembers its lifetime (it does not
// expire it; see TTL).
func (m *MemoryHost) SetSharedStateTTL(ctx context.Context, key string, value any, ttl time.Duration) error {
	if err := m.SetSharedState(ctx, key, value); err != nil {
		return err
	}
	m.mu.Lock()
	m.ttls[key] = ttl
	m.mu.Unlock()
	return nil
}

// TTL is the lifetime a key was last stored with; 0 for none.
func (m *MemoryHost) TTL(key string) time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ttls[key]
}

// State returns every stored key with its JSON value.
func (m *MemoryHost) State() map[string]json.RawMessage {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]json.RawMessage, len(m.state))
	for k, v := range m.state {
		out[k] = v
	}
	return out
}
