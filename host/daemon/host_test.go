package daemon

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/hemostat/hemostat/host/config"
	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/host/role"
)

// TestPluginEventsQualified: in a fleet, the container a plugin's event
// names (a responder's foreign_action) is this host's, so it is qualified
// like the monitor's; an already qualified name, data without a container
// and a single host are left alone.
func TestPluginEventsQualified(t *testing.T) {
	fleet := pluginHost{fleet: role.Fleet{Host: "rack-1", Enabled: true}}
	single := pluginHost{fleet: role.Fleet{Host: "rack-1"}}
	tests := []struct {
		name string
		h    pluginHost
		data any
		want string
	}{
		{"bare name", fleet, map[string]any{"container": "web-1", "count": 2}, `{"container":"rack-1/web-1","count":2}`},
		{"qualified", fleet, map[string]any{"container": "rack-2/web-1"}, `{"container":"rack-2/web-1"}`},
		{"no container", fleet, map[string]any{"count": 1}, `{"count":1}`},
		{"single host", single, map[string]any{"container": "web-1"}, `{"container":"web-1"}`},
	}
	for _, tt := range tests {
		got, err := json.Marshal(tt.h.qualified(tt.data))
		if err != nil || string(got) != tt.want {
			t.Errorf("%s: %s (%v), want %s", tt.name, got, err, tt.want)
		}
	}
}

// TestHostName: the configured host wins; without one, the name is one a
// key can hold whatever the engine or the machine is called.
func TestHostName(t *testing.T) {
	cfg := config.Default()
	cfg.Host = "rack-1"
	if got := hostName(context.Background(), cfg, hclog.NewNullLogger()); got != "rack-1" {
		t.Errorf("configured host: %q, want rack-1", got)
	}
	cfg.Host = ""
	got := hostName(context.Background(), cfg, hclog.NewNullLogger())
	if err := protocol.CheckHostName(got); err != nil {
		t.Fatalf("the default host name cannot name a host on the bus: %v", err)
	}
	t.Logf("this machine's host name on the bus: %q", got)
}
