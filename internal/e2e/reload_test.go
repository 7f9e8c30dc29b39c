package e2e

import (
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/daemontest"
	"github.com/hemostat/hemostat/internal/testenv"
	"github.com/hemostat/hemostat/sdk"
)

// TestConfigReload edits the config file under a running hemostatd and
// sends SIGHUP, as an operator does: a valid edit is applied — the changed
// plugin alone gets a new process, the responder's policy changes at once
// — and every edit that cannot be applied is refused with its reason while
// the running config goes on, untouched.
func TestConfigReload(t *testing.T) {
	srv := testenv.StartRedis(t)
	d := startDaemon(t, srv, baseConfig)
	w := daemontest.Watch(t, d.rdb)
	_, pluginDir := build(t)
	render := func(cfg string) string {
		return strings.NewReplacer("{{redis}}", srv.Addr(), "{{http}}", d.HTTPAddr(), "{{plugins}}", pluginDir).Replace(cfg)
	}
	pids := func() map[string]int {
		out := map[string]int{}
		for _, p := range d.Plugins(t) {
			out[p.Role+"."+p.Name] = p.PID
		}
		return out
	}
	reloads := 0
	reload := func(cfg, wantLog string) {
		t.Helper()
		reloads++
		mark := len(d.Logs())
		d.Reload(t, cfg)
		deadline := time.Now().Add(30 * time.Second)
		for {
			logs := d.Logs()
			if n := strings.Count(logs, "config reloaded") + strings.Count(logs, "config reload refused"); n >= reloads {
				if !strings.Contains(logs[mark:], wantLog) {
					t.Fatalf("reload %d: the log does not say %q:\n%s", reloads, wantLog, logs[mark:])
				}
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("reload %d: no outcome logged within 30s:\n%s", reloads, logs)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	crash := func(name string) {
		script(t, d.rdb, sdk.Sample{Container: name, Status: "exited", Event: sdk.EventDie, ExitCode: 3})
	}
	before := pids()

	// Before: batch-* is in maintenance, the responder acts for real.
	crash("batch-1")
	w.WaitFor(t, protocol.TypeFalseAlarm, "batch-1", nil, 20*time.Second)

	// A valid edit: another maintenance prefix, dry run on.
	edited := strings.Replace(baseConfig, `prefix = "batch-"`, `prefix = "nightly-"`, 1)
	edited = strings.Replace(edited, "responder {\n", "responder {\n  dry_run = true\n", 1)
	reload(render(edited), "config reloaded")
	after := pids()
	for plugin, pid := range before {
		changed := pid != after[plugin]
		if want := plugin == "analyzer.maintenance"; changed != want || after[plugin] == 0 {
			t.Errorf("plugin %s: pid %d → %d; only analyzer.maintenance should have a new process", plugin, pid, after[plugin])
		}
	}
	crash("nightly-1")
	w.WaitFor(t, protocol.TypeFalseAlarm, "nightly-1", nil, 20*time.Second)
	crash("batch-2")
	done := w.WaitFor(t, protocol.TypeRemediationComplete, "batch-2", nil, 20*time.Second)
	if st := done.Str("result", "status"); st != sdk.StatusDryRun {
		t.Fatalf("batch-2 after the reload: result %s, want %s (dry run reloaded)", st, sdk.StatusDryRun)
	}
	if !strings.Contains(d.Metrics(t), "hemostat_config_last_reload_successful 1") {
		t.Error("hemostat_config_last_reload_successful is not 1 after a good reload")
	}

	// Edits that cannot be applied are refused; the running config goes on.
	refused := []struct {
		name, cfg, wantLog string
	}{
		{"half-written file", render(edited)[:len(render(edited))/2], "config reload refused"},
		{"a plugin refuses its settings", render(strings.Replace(edited, `prefix = "nightly-"`, `prefix = ""`, 1)), `plugin \"maintenance\": prefix: is required`},
		{"a setting that needs a restart", render(strings.Replace(edited, "dedupe_window = \"0s\"", "dedupe_window = \"5s\"", 1)), "alert.dedupe_window"},
	}
	for _, tc := range refused {
		reload(tc.cfg, tc.wantLog)
		if got := pids(); !maps.Equal(got, after) {
			t.Errorf("%s: plugin processes changed: %v → %v", tc.name, after, got)
		}
		if !strings.Contains(d.Metrics(t), "hemostat_config_last_reload_successful 0") {
			t.Errorf("%s: hemostat_config_last_reload_successful is not 0", tc.name)
		}
	}
	crash("nightly-2")
	w.WaitFor(t, protocol.TypeFalseAlarm, "nightly-2", nil, 20*time.Second)
	d.Alive(t)
}
