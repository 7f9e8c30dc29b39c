package threshold

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/hemostat/hemostat/sdk"
)

func TestParseConfig(t *testing.T) {
	def := DefaultConfig()
	for _, tc := range []struct {
		name string
		raw  string
		want Config
	}{
		{"empty", ``, def},
		{"null", `null`, def},
		{"empty object", `{}`, def},
		{"null values keep defaults", `{"cpu_pct": null, "restart_loop_window": null}`, def},
		{"every key", `{"cpu_pct": 150, "memory_pct": 90.5, "spike_window": 12, "memory_action": "update_resources"}`,
			Config{CPUPct: 150, MemoryPct: 90.5, SpikeWindow: 12, MemoryAction: "update_resources"}},
		{"whole number written as a float", `{"spike_window": 4.0}`,
			Config{CPUPct: 85, MemoryPct: 70, SpikeWindow: 4, MemoryAction: "restart"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseConfig(json.RawMessage(tc.raw))
			if err != nil {
				t.Fatalf("ParseConfig(%s): %v", tc.raw, err)
			}
			if got != tc.want {
				t.Errorf("ParseConfig(%s) = %+v, want %+v", tc.raw, got, tc.want)
			}
		})
	}
}

func TestParseConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		raw  string
		want sdk.ConfigErrors
	}{
		{"unknown key", `{"cpu_pct": 90, "cpu_percent": 90}`,
			sdk.ConfigErrors{{Key: "cpu_percent", Message: "unknown setting"}}},
		{"not an object", `[1, 2]`, nil}, // one error on the block itself; message from the SDK
		{"every bad value is reported", `{"cpu_pct": 0, "memory_pct": 120, "spike_window": 1}`,
			sdk.ConfigErrors{
				{Key: "cpu_pct", Message: "must be above 0 and at most 102400, not 0"},
				{Key: "memory_pct", Message: "must be above 0 and at most 100, not 120"},
				{Key: "spike_window", Message: "must be between 2 and 1000, not 1"},
			}},
		{"restart-loop keys moved to the breaker", `{"restart_loop_count": 3, "restart_loop_window": "15m"}`,
			sdk.ConfigErrors{
				{Key: "restart_loop_count", Message: removedRestartLoop},
				{Key: "restart_loop_window", Message: removedRestartLoop},
			}},
		{"memory_action outside its choices", `{"memory_action": "reboot"}`,
			sdk.ConfigErrors{{Key: "memory_action", Message: `must be one of ["restart" "update_resources"], not "reboot"`}}},
		{"wrong types", `{"cpu_pct": "high", "spike_window": "6"}`,
			sdk.ConfigErrors{
				{Key: "cpu_pct", Message: `must be a number of percent, not "high"`},
				{Key: "spike_window", Message: `must be a whole number, not "6"`},
			}},
		{"window too large", `{"spike_window": 5000}`,
			sdk.ConfigErrors{{Key: "spike_window", Message: "must be between 2 and 1000, not 5000"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig(json.RawMessage(tc.raw))
			var got sdk.ConfigErrors
			if !errors.As(err, &got) {
				t.Fatalf("ParseConfig(%s) error = %v, want sdk.ConfigErrors", tc.raw, err)
			}
			if tc.want == nil {
				if len(got) != 1 || got[0].Key != "" {
					t.Errorf("got %#v, want one error on the block", got)
				}
				return
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseConfig(%s) errors:\n got %#v\nwant %#v", tc.raw, got, tc.want)
			}
		})
	}
}

// TestConfigureKeepsSettingsOnError checks that a rejected config block
// leaves the previous settings in force.
func TestConfigureKeepsSettingsOnError(t *testing.T) {
	a := New()
	ctx := context.Background()
	if err := a.Configure(ctx, json.RawMessage(`{"cpu_pct": 95}`), nil); err != nil {
		t.Fatal(err)
	}
	if err := a.Configure(ctx, json.RawMessage(`{"cpu_pct": -1}`), nil); err == nil {
		t.Fatal("Configure accepted cpu_pct -1")
	}
	if got := a.Config().CPUPct; got != 95 {
		t.Errorf("cpu_pct after a rejected Configure = %v, want 95", got)
	}
	if err := a.Configure(ctx, nil, nil); err != nil {
		t.Fatal(err)
	}
	if got := a.Config(); got != DefaultConfig() {
		t.Errorf("an empty block after cpu_pct 95: %+v, want the defaults", got)
	}
}
