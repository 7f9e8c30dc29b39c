package dockerresponder

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/hemostat/hemostat/sdk"
)

func TestParseConfigDefaults(t *testing.T) {
	for _, raw := range []string{"", "null", "{}"} {
		cfg, err := ParseConfig(json.RawMessage(raw))
		if err != nil {
			t.Fatalf("ParseConfig(%q): %v", raw, err)
		}
		if !reflect.DeepEqual(cfg, DefaultConfig()) {
			t.Errorf("ParseConfig(%q) = %+v, want the defaults %+v", raw, cfg, DefaultConfig())
		}
	}
}

func TestParseConfigValues(t *testing.T) {
	raw := `{
		"docker_host": "unix:///run/docker.sock",
		"stop_timeout": 5, "verify_timeout": "90s", "start_grace": "0s",
		"restart_dependents": false, "protect_dependents": ["hs-*", "db"], "resource_factor": 2,
		"max_memory": "2g", "max_cpus": 1.5,
		"exec_allowlist": [["nginx", "-s", "reload"]], "exec_output_limit": "1k", "exec_timeout": "5s",
		"cleanup_volumes": true, "max_replicas": 3
	}`
	cfg, err := ParseConfig(json.RawMessage(raw))
	if err != nil {
		t.Fatal(err)
	}
	no := false
	want := Config{
		DockerHost: "unix:///run/docker.sock", StopTimeout: Duration(5 * time.Second),
		VerifyTimeout: Duration(90 * time.Second), StartGrace: 0, RestartDependents: &no,
		ProtectDependents: []string{"hs-*", "db"},
		ResourceFactor:    2, MaxMemory: 2 << 30, MaxCPUs: 1.5,
		ExecAllowlist: [][]string{{"nginx", "-s", "reload"}}, ExecOutputLimit: 1 << 10,
		ExecTimeout: Duration(5 * time.Second), CleanupVolumes: true, MaxReplicas: 3,
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("got  %+v\nwant %+v", cfg, want)
	}
}

func TestParseConfigProtectDependents(t *testing.T) {
	tests := []struct {
		raw  string
		want []string
	}{
		{`{}`, []string{"hemostat*", "*redis*"}},
		{`{"protect_dependents": null}`, []string{"hemostat*", "*redis*"}},
		{`{"protect_dependents": []}`, []string{}},
		{`{"protect_dependents": ["infra-?"]}`, []string{"infra-?"}},
	}
	for _, tt := range tests {
		cfg, err := ParseConfig(json.RawMessage(tt.raw))
		if err != nil {
			t.Fatalf("ParseConfig(%s): %v", tt.raw, err)
		}
		if !reflect.DeepEqual(cfg.ProtectDependents, tt.want) {
			t.Errorf("ParseConfig(%s).ProtectDependents = %q, want %q", tt.raw, cfg.ProtectDependents, tt.want)
		}
	}
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		keys []string
	}{
		{"unknown key", `{"stop_timeot": "5s"}`, []string{"stop_timeot"}},
		{"bad duration", `{"verify_timeout": "soon"}`, []string{"verify_timeout"}},
		{"bad size", `{"max_memory": "lots"}`, []string{"max_memory"}},
		{"two bad values", `{"start_grace": true, "exec_output_limit": "-1k"}`, []string{"start_grace", "exec_output_limit"}},
		{"wrong type", `{"resource_factor": "big"}`, []string{"resource_factor"}},
		{"factor not above 1", `{"resource_factor": 1}`, []string{"resource_factor"}},
		{"factor too large", `{"resource_factor": 15}`, []string{"resource_factor"}},
		{"fractional stop timeout", `{"stop_timeout": "1.5s"}`, []string{"stop_timeout"}},
		{"zero verify timeout", `{"verify_timeout": 0}`, []string{"verify_timeout"}},
		{"empty exec entry", `{"exec_allowlist": [["ok"], []]}`, []string{"exec_allowlist"}},
		{"zero output limit", `{"exec_output_limit": 0}`, []string{"exec_output_limit"}},
		{"zero replicas", `{"max_replicas": 0}`, []string{"max_replicas"}},
		{"bad glob", `{"protect_dependents": ["ok*", "[a-"]}`, []string{"protect_dependents"}},
		{"empty glob", `{"protect_dependents": [""]}`, []string{"protect_dependents"}},
		{"several at once", `{"max_cpus": -1, "start_grace": "-1s"}`, []string{"start_grace", "max_cpus"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig(json.RawMessage(tt.raw))
			var errs sdk.ConfigErrors
			if !errors.As(err, &errs) {
				t.Fatalf("error %v (%T), want sdk.ConfigErrors", err, err)
			}
			var keys []string
			for _, e := range errs {
				keys = append(keys, e.Key)
				if e.Message == "" {
					t.Errorf("error for %q has no message", e.Key)
				}
			}
			if !reflect.DeepEqual(keys, tt.keys) {
				t.Errorf("keys %q, want %q (errors: %v)", keys, tt.keys, err)
			}
		})
	}
}

func TestByteSize(t *testing.T) {
	tests := []struct {
		in   string
		want ByteSize
		ok   bool
	}{
		{"4096", 4096, true},
		{"4k", 4 << 10, true},
		{"4KiB", 4 << 10, true},
		{"512m", 512 << 20, true},
		{"512MB", 512 << 20, true},
		{"2g", 2 << 30, true},
		{"1.5G", 3 << 29, true},
		{"1t", 1 << 40, true},
		{"0", 0, true},
		{" 2g ", 2 << 30, true},
		{"", 0, false},
		{"g", 0, false},
		{"-1m", 0, false},
		{"2x", 0, false},
		{"NaN", 0, false},
		{"99999999t", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseByteSize(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestByteSizeString(t *testing.T) {
	tests := map[ByteSize]string{
		512: "512B", 4 << 10: "4KiB", 3 << 29: "1.5GiB", 2 << 30: "2GiB", 100 << 20: "100MiB",
	}
	for in, want := range tests {
		if got := in.String(); got != want {
			t.Errorf("ByteSize(%d).String() = %q, want %q", int64(in), got, want)
		}
	}
}

func TestParseSignal(t *testing.T) {
	tests := []struct {
		in   string
		name string
		num  int
		ok   bool
	}{
		{"SIGKILL", "SIGKILL", 9, true},
		{"kill", "SIGKILL", 9, true},
		{"9", "SIGKILL", 9, true},
		{"sigterm", "SIGTERM", 15, true},
		{"HUP", "SIGHUP", 1, true},
		{"SIGRTMIN+3", "SIGRTMIN+3", 37, true},
		{"40", "40", 40, true},
		{"0", "", 0, false},
		{"65", "", 0, false},
		{"SIGFOO", "", 0, false},
		{"", "", 0, false},
	}
	for _, tt := range tests {
		name, num, err := parseSignal(tt.in)
		if (err == nil) != tt.ok || name != tt.name || num != tt.num {
			t.Errorf("parseSignal(%q) = %q, %d, %v; want %q, %d, ok=%v", tt.in, name, num, err, tt.name, tt.num, tt.ok)
		}
	}
}
