package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/daemontest"
	"github.com/hemostat/hemostat/internal/testenv"
	"github.com/hemostat/hemostat/internal/testplugins/scripted"
)

// panicPlugins is a plugin directory of its own: a plugin that panics in
// main would make every other test's listing show an error.
var panicPlugins = map[string]string{
	"hemostat-analyzer-panicmain": "github.com/hemostat/hemostat/internal/testplugins/panicmain",
	"hemostat-analyzer-scripted":  "github.com/hemostat/hemostat/internal/testplugins/analyzer",
}

// misleading are go-plugin's and gRPC's guesses at why a plugin died.
var misleading = []string{"Failed to read any lines", "compiled for this architecture", "error reading from server"}

// checkNamesPanic fails unless out names the plugin's own panic and none of
// go-plugin's guesses.
func checkNamesPanic(t *testing.T, what, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("%s does not name %q:\n%s", what, w, out)
		}
	}
	for _, w := range misleading {
		if strings.Contains(out, w) {
			t.Errorf("%s gives go-plugin's explanation %q:\n%s", what, w, out)
		}
	}
}

// panicConfig is a daemon's config with one analyzer block.
func panicConfig(pluginDir, redis, http, analyzer string) string {
	return `plugin_dir = "` + pluginDir + `"
redis { address = "` + redis + `" }
http  { address = "` + http + `" }
monitor { enabled = false }
responder { enabled = false }
alert { enabled = false }
analyzer {
  ` + analyzer + `
  plugin "threshold" {}
}
`
}

// TestPluginPanicIsShown: a plugin that panics in main, in Configure or on
// a call is reported with its own panic message by `hemostatd plugins`,
// `hemostatd validate`, a run's log and the status API.
func TestPluginPanicIsShown(t *testing.T) {
	bin := daemontest.Hemostatd(t)
	dir := daemontest.Binaries(t, panicPlugins)
	inMain := scripted.PanicMessage + " in main"
	inConfigure := scripted.PanicMessage + " in Configure"

	t.Run("plugins", func(t *testing.T) {
		cfg := filepath.Join(t.TempDir(), "hemostat.hcl")
		if err := os.WriteFile(cfg, []byte(`plugin_dir = "`+dir+`"`+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		out, _ := exec.Command(bin, "plugins", "-config", cfg).CombinedOutput()
		var line string
		for _, l := range strings.Split(string(out), "\n") {
			if strings.Contains(l, "panicmain") {
				line = l
			}
		}
		checkNamesPanic(t, "the listing's line of the plugin", line, "error: ", inMain, "in main.main")
	})

	for _, tc := range []struct {
		name, block string
		want        []string
	}{
		{"panic in main", `plugin "panicmain" {}`, []string{inMain, "in main.main"}},
		{"panic in Configure", `plugin "scripted" {
    config { panic_in_configure = true }
  }`, []string{inConfigure, ".Configure"}},
	} {
		t.Run("validate/"+tc.name, func(t *testing.T) {
			cfg := filepath.Join(t.TempDir(), "hemostat.hcl")
			if err := os.WriteFile(cfg, []byte(panicConfig(dir, "127.0.0.1:1", "127.0.0.1:0", tc.block)), 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(bin, "validate", "-config", cfg).CombinedOutput()
			if err == nil {
				t.Fatalf("validate accepted a plugin that panics:\n%s", out)
			}
			checkNamesPanic(t, "validate", string(out), append([]string{"hemostat.hcl:8:3: "}, tc.want...)...)
		})
		t.Run("run/"+tc.name, func(t *testing.T) {
			srv := testenv.StartRedis(t)
			cfg := filepath.Join(t.TempDir(), "hemostat.hcl")
			if err := os.WriteFile(cfg, []byte(panicConfig(dir, srv.Addr(), daemontest.FreeAddr(t), tc.block)), 0o600); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, bin, "-config", cfg).CombinedOutput()
			if err == nil || ctx.Err() != nil {
				t.Fatalf("hemostatd did not refuse to start (%v):\n%s", err, out)
			}
			checkNamesPanic(t, "hemostatd's output", string(out), tc.want...)
		})
	}

	t.Run("status after a panic on a call", func(t *testing.T) {
		srv := testenv.StartRedis(t)
		httpAddr := daemontest.FreeAddr(t)
		d := &daemon{
			Daemon: daemontest.Start(t, daemontest.Options{HTTP: httpAddr, Config: panicConfig(dir, srv.Addr(), httpAddr, `plugin "scripted" {
    config { panic_on_call = 1 }
  }`)}),
			rdb: srv.Client(t),
		}
		waitSubscribers(t, d, protocol.TypeHealthAlert, 1)
		publishAlert(t, d, protocol.HealthAlert{Container: "victim", Issues: []string{protocol.IssueExited(3)}})
		onCall := scripted.PanicMessage + " on call 1"
		var st daemontest.PluginStatus
		deadline := time.Now().Add(60 * time.Second)
		for {
			st = findPlugin(t, d, "analyzer", "scripted")
			if st.Restarts > 0 && strings.Contains(st.LastError, "panic") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the status never showed the panic: %+v\n%s", st, d.Logs())
			}
			time.Sleep(50 * time.Millisecond)
		}
		checkNamesPanic(t, "last_error", st.LastError, onCall, "(*script).enter")
		var logLine string
		for _, l := range strings.Split(d.Logs(), "\n") {
			if strings.Contains(l, "plugin failed, restarting it") {
				logLine = l
			}
		}
		checkNamesPanic(t, "the log's restart line", logLine, onCall)
	})
}
