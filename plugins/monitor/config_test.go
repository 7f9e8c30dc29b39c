package monitor

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/hemostat/hemostat/sdk"
)

func TestParseConfigDefaults(t *testing.T) {
	got, err := parseConfig(Config{})
	if err != nil {
		t.Fatal(err)
	}
	want := settings{
		interval: 5 * time.Second, concurrency: 8, sampler: "auto",
		cgroupRoot: "/sys/fs/cgroup", scope: "all", logTailLines: 20,
	}
	if got.redactor == nil {
		t.Fatal("no redactor for log tails by default")
	}
	got.redactor = nil
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("defaults = %+v, want %+v", got, want)
	}
}

func TestParseConfigValues(t *testing.T) {
	zero := 0
	got, err := parseConfig(Config{
		DockerHost: "tcp://127.0.0.1:2375", Interval: "1500ms", Concurrency: 3,
		Sampler: "api", CgroupRoot: "/host/sys/fs/cgroup/", Scope: "opt_in",
		Exclude: []string{"db-*"}, LogTailLines: &zero,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := settings{
		dockerHost: "tcp://127.0.0.1:2375", interval: 1500 * time.Millisecond, concurrency: 3,
		sampler: "api", cgroupRoot: "/host/sys/fs/cgroup", scope: "opt_in",
		exclude: []string{"db-*"}, logTailLines: 0,
	}
	if got.redactor == nil {
		t.Fatal("no redactor for log tails")
	}
	got.redactor = nil
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("settings = %+v, want %+v", got, want)
	}
}

func TestParseConfigErrors(t *testing.T) {
	neg, huge := -1, 5000
	tests := []struct {
		name string
		cfg  Config
		keys []string
	}{
		{"bad interval", Config{Interval: "soon"}, []string{"interval"}},
		{"tiny interval", Config{Interval: "1ms"}, []string{"interval"}},
		{"concurrency", Config{Concurrency: -2}, []string{"concurrency"}},
		{"sampler", Config{Sampler: "magic"}, []string{"sampler"}},
		{"scope", Config{Scope: "some"}, []string{"scope"}},
		{"exclude", Config{Exclude: []string{"[a-"}}, []string{"exclude"}},
		{"empty exclude", Config{Exclude: []string{""}}, []string{"exclude"}},
		{"log tail negative", Config{LogTailLines: &neg}, []string{"log_tail_lines"}},
		{"log tail huge", Config{LogTailLines: &huge}, []string{"log_tail_lines"}},
		{"relative cgroup root", Config{CgroupRoot: "sys/fs/cgroup"}, []string{"cgroup_root"}},
		{"docker host", Config{DockerHost: "nonsense"}, []string{"docker_host"}},
		{"all at once", Config{Interval: "x", Sampler: "y", Scope: "z"}, []string{"interval", "sampler", "scope"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseConfig(tt.cfg)
			var errs sdk.ConfigErrors
			if !errors.As(err, &errs) {
				t.Fatalf("err = %v, want sdk.ConfigErrors", err)
			}
			var keys []string
			for _, e := range errs {
				keys = append(keys, e.Key)
			}
			if !reflect.DeepEqual(keys, tt.keys) {
				t.Fatalf("error keys = %v, want %v (%v)", keys, tt.keys, err)
			}
		})
	}
}

func TestConfigureRejectsUnknownKey(t *testing.T) {
	err := New().Configure(t.Context(), json.RawMessage(`{"intervall": "5s"}`), nil)
	var errs sdk.ConfigErrors
	if !errors.As(err, &errs) || errs[0].Key != "intervall" {
		t.Fatalf("Configure = %v, want an unknown-setting error on intervall", err)
	}
}

func TestWatchBeforeConfigure(t *testing.T) {
	err := New().Watch(t.Context(), func(sdk.Sample) error { return nil })
	if !errors.Is(err, errNotConfigured) {
		t.Fatalf("Watch = %v, want errNotConfigured", err)
	}
}
