package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func mustParse(t *testing.T, src string) *Config {
	t.Helper()
	c, err := Parse([]byte(src), "test.hcl")
	if err != nil {
		t.Fatalf("Parse:\n%v", err)
	}
	return c
}

func TestDefault(t *testing.T) {
	c := Default()
	tests := []struct {
		name      string
		got, want any
	}{
		{"file", c.File, ""},
		{"log level", c.LogLevel, "info"},
		{"log format", c.LogFormat, "text"},
		{"host from the engine", c.Host, ""},
		{"single host", c.Fleet, false},
		{"plugin dir", c.PluginDir, filepath.Join(DefaultDataDir(), "plugins")},
		{"redis embedded", len(c.Redis.Addresses), 0},
		{"delivery", c.Redis.Delivery, "pubsub"},
		{"claim min idle", c.Redis.ClaimMinIdle, 3 * time.Minute},
		{"http address", c.HTTP.Address, "127.0.0.1:9090"},
		{"monitor enabled", c.Monitor.Enabled, true},
		{"cpu", c.Monitor.CPUPct, 85.0},
		{"memory", c.Monitor.MemoryPct, 90.0},
		{"sustain", c.Monitor.Sustain, 30 * time.Second},
		{"grace", c.Monitor.Grace, 60 * time.Second},
		{"realert", c.Monitor.Realert, 5 * time.Minute},
		{"leak forecast", []any{c.Monitor.LeakForecast, c.Monitor.LeakHorizon, c.Monitor.LeakSamples}, []any{true, 30 * time.Second, 6}},
		{"monitor plugins", pluginNames(c.Monitor.Plugins), []string{"docker"}},
		{"analyzer enabled", c.Analyzer.Enabled, true},
		{"analyzer plugins", pluginNames(c.Analyzer.Plugins), []string{"threshold"}},
		{"responder enabled", c.Responder.Enabled, true},
		{"dry run", c.Responder.DryRun, false},
		{"min confidence", c.Responder.MinConfidence, 0.7},
		{"actions", c.Responder.Actions, []string{"restart", "start", "unpause"}},
		{"protected", c.Responder.Protected, []string{"hemostat*", "*redis*"}},
		{"opt in", c.Responder.RequireOptIn, false},
		{"backoff", c.Responder.Backoff, Backoff{Initial: 10 * time.Second, Max: 5 * time.Minute, ResetAfter: 10 * time.Minute}},
		{"cooldown", c.Responder.Cooldown, time.Duration(0)},
		{"breaker", c.Responder.Breaker, Breaker{MaxActions: 5, Window: time.Hour}},
		{"responder plugins", pluginNames(c.Responder.Plugins), []string{"docker"}},
		{"alert enabled", c.Alert.Enabled, true},
		{"dedupe", c.Alert.DedupeWindow, 5 * time.Minute},
		{"alert plugins", len(c.Alert.Plugins), 0},
		{"plugin timeout", c.Monitor.Plugins[0].Timeout, 10 * time.Second},
		{"plugin enabled", c.Monitor.Plugins[0].Enabled, true},
		{"plugin config", string(c.Monitor.Plugins[0].Config), "{}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("got %#v, want %#v", tt.got, tt.want)
			}
		})
	}
}

func TestDefaultIsFresh(t *testing.T) {
	a := Default()
	a.Responder.Actions[0] = "kill"
	a.Monitor.Plugins[0].Name = "other"
	b := Default()
	if b.Responder.Actions[0] != "restart" || b.Monitor.Plugins[0].Name != "docker" {
		t.Fatal("Default shares slices between calls")
	}
}

// TestEmptyFileIsDefault: a file that sets nothing means the defaults.
func TestEmptyFileIsDefault(t *testing.T) {
	for _, src := range []string{"", "# nothing\n", "monitor {}\nanalyzer {}\nresponder {}\nalert {}\nredis {}\nhttp {}\n"} {
		c := mustParse(t, src)
		want := Default()
		want.File = "test.hcl"
		if !reflect.DeepEqual(c, want) {
			t.Errorf("Parse(%q) =\n%+v\nwant\n%+v", src, c, want)
		}
	}
}

// TestParseValues reads each setting from a file and checks it lands in
// its field, while settings left out keep their defaults.
func TestParseValues(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		check func(*Config) any
		want  any
	}{
		{"log level", `log_level = "debug"`, func(c *Config) any { return c.LogLevel }, "debug"},
		{"log format", `log_format = "json"`, func(c *Config) any { return c.LogFormat }, "json"},
		{"plugin dir", `plugin_dir = "/opt/hemostat"`, func(c *Config) any { return c.PluginDir }, "/opt/hemostat"},
		{"host and fleet", "host = \"rack-1.example\"\nfleet = true\nredis { address = \"r:6379\" }", func(c *Config) any { return []any{c.Host, c.Fleet} }, []any{"rack-1.example", true}},
		{"host empty is the engine's", `host = ""`, func(c *Config) any { return c.Host }, ""},
		{"redis address", `redis { address = "redis:6379" }`, func(c *Config) any { return c.Redis.Addresses }, []string{"redis:6379"}},
		{"redis empty address", `redis { address = "" }`, func(c *Config) any { return len(c.Redis.Addresses) }, 0},
		{"redis addresses", `redis { addresses = ["a:1", "[::1]:2"] }`, func(c *Config) any { return c.Redis.Addresses }, []string{"a:1", "[::1]:2"}},
		{"redis sentinel", `redis {
			addresses = ["s1:26379", "s2:26379"]
			sentinel_master = "main"
			username = "u"
			db = 3
		}`, func(c *Config) any { return c.Redis }, Redis{Addresses: []string{"s1:26379", "s2:26379"}, SentinelMaster: "main", Username: "u", DB: 3, Delivery: "pubsub", ClaimMinIdle: 3 * time.Minute}},
		{"redis streams", `redis {
			address = "r:6379"
			delivery = "streams"
			claim_min_idle = "45s"
		}`, func(c *Config) any { return []any{c.Redis.Delivery, c.Redis.ClaimMinIdle} }, []any{"streams", 45 * time.Second}},
		{"redis pubsub explicit", `redis { delivery = "pubsub" }`, func(c *Config) any { return c.Redis.Delivery }, "pubsub"},
		{"redis tls", `redis {
			address = "r:6380"
			tls {
				enabled = true
				ca_file = "ca.pem"
				cert_file = "c.pem"
				key_file = "k.pem"
				server_name = "r.example"
				insecure_skip_verify = true
			}
		}`, func(c *Config) any { return c.Redis.TLS }, TLS{Enabled: true, CAFile: "ca.pem", CertFile: "c.pem", KeyFile: "k.pem", ServerName: "r.example", InsecureSkipVerify: true}},
		{"http disabled", `http { address = "" }`, func(c *Config) any { return c.HTTP.Address }, ""},
		{"http any free port", `http { address = "127.0.0.1:0" }`, func(c *Config) any { return c.HTTP.Address }, "127.0.0.1:0"},
		{"http pprof", `http { pprof = true }`, func(c *Config) any { return c.HTTP.Pprof }, true},
		{"http localhost", `http { address = "localhost:9090" }`, func(c *Config) any { return c.HTTP.Address }, "localhost:9090"},
		{"http loopback v6", `http { address = "[::1]:8080" }`, func(c *Config) any { return c.HTTP.Address }, "[::1]:8080"},
		{"http public with token", `http {
			address = "0.0.0.0:9090"
			token = "t"
		}`, func(c *Config) any { return c.HTTP }, HTTP{Address: "0.0.0.0:9090", Token: "t"}},
		{"monitor keeps other defaults", `monitor { cpu_pct = 50.5 }`, func(c *Config) any {
			m := c.Monitor
			return []any{m.CPUPct, m.MemoryPct, m.Sustain, pluginNames(m.Plugins)}
		}, []any{50.5, 90.0, 30 * time.Second, []string{"docker"}}},
		{"monitor durations", `monitor {
			sustain = "0s"
			grace = "1m30s"
			realert = "2h"
		}`, func(c *Config) any {
			m := c.Monitor
			return []any{m.Sustain, m.Grace, m.Realert}
		}, []any{time.Duration(0), 90 * time.Second, 2 * time.Hour}},
		{"monitor leak forecast", `monitor {
			leak_forecast = false
			leak_horizon = "1m"
			leak_samples = 12
		}`, func(c *Config) any {
			m := c.Monitor
			return []any{m.LeakForecast, m.LeakHorizon, m.LeakSamples}
		}, []any{false, time.Minute, 12}},
		{"monitor disabled without plugins", `monitor {
			enabled = false
			plugin "docker" { enabled = false }
		}`, func(c *Config) any { return c.Monitor.Enabled }, false},
		{"analyzer chain order", `analyzer {
			plugin "llm" { timeout = "45s" }
			plugin "threshold" {}
		}`, func(c *Config) any {
			return []any{pluginNames(c.Analyzer.Plugins), c.Analyzer.Plugins[0].Timeout, c.Analyzer.Plugins[1].Timeout}
		}, []any{[]string{"llm", "threshold"}, 45 * time.Second, 10 * time.Second}},
		{"responder", `responder {
			dry_run = true
			min_confidence = 1
			actions = ["restart", "stop"]
			protected = []
			require_opt_in = true
			cooldown = "2m"
			backoff { max = "1h" }
			breaker { max_actions = 10 }
		}`, func(c *Config) any {
			r := c.Responder
			return []any{r.DryRun, r.MinConfidence, r.Actions, r.Protected, r.RequireOptIn, r.Cooldown, r.Backoff, r.Breaker}
		}, []any{true, 1.0, []string{"restart", "stop"}, []string{}, true, 2 * time.Minute,
			Backoff{Initial: 10 * time.Second, Max: time.Hour, ResetAfter: 10 * time.Minute},
			Breaker{MaxActions: 10, Window: time.Hour}}},
		{"alert plugin defaults", `alert {
			plugin "slack" {}
		}`, func(c *Config) any {
			p := c.Alert.Plugins[0]
			return []any{p.Name, p.Events, p.MinSeverity, p.Enabled, p.Timeout}
		}, []any{"slack", []string{"health_alert", "remediation_needed", "remediation_complete", "false_alarm", "escalation", "foreign_action"}, "info", true, 10 * time.Second}},
		{"alert plugin routing", `alert {
			dedupe_window = "0s"
			plugin "slack" {
				events = ["escalation"]
				min_severity = "critical"
			}
		}`, func(c *Config) any {
			p := c.Alert.Plugins[0]
			return []any{c.Alert.DedupeWindow, p.Events, p.MinSeverity}
		}, []any{time.Duration(0), []string{"escalation"}, "critical"}},
		{"plugin path and pin", `responder {
			plugin "custom" {
				path = "bin/hemostat-responder-custom"
				sha256 = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"
			}
		}`, func(c *Config) any {
			p := c.Responder.Plugins[0]
			return []any{p.Path, p.SHA256}
		}, []any{"bin/hemostat-responder-custom", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}},
		{"plugin env", `analyzer {
			plugin "llm" {
				env = ["OPENAI_API_KEY", "HTTPS_PROXY"]
			}
		}`, func(c *Config) any { return c.Analyzer.Plugins[0].Env }, []string{"OPENAI_API_KEY", "HTTPS_PROXY"}},
		{"null keeps default", `monitor { cpu_pct = null }`, func(c *Config) any { return c.Monitor.CPUPct }, 85.0},
		{"number from string", `monitor { cpu_pct = "70" }`, func(c *Config) any { return c.Monitor.CPUPct }, 70.0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustParse(t, tt.src)
			if got := tt.check(c); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestPluginPositions(t *testing.T) {
	c := mustParse(t, `alert {
  plugin "slack" {
    config {
      webhook_url = "https://hooks.example/x"
      channels    = ["#ops"]
    }
  }
}
`)
	p := c.Alert.Plugins[0]
	tests := []struct {
		key  string
		want string
	}{
		{"webhook_url", "test.hcl:4:7"},
		{"channels", "test.hcl:5:7"},
		{"channels[0]", "test.hcl:5:7"},
		{"webhook_url.host", "test.hcl:4:7"},
		{"other.x", "test.hcl:2:3"},
		{".x", "test.hcl:2:3"},
		{"missing", "test.hcl:2:3"},
		{"", "test.hcl:2:3"},
	}
	for _, tt := range tests {
		if got := p.KeyPos(tt.key).String(); got != tt.want {
			t.Errorf("KeyPos(%q) = %s, want %s", tt.key, got, tt.want)
		}
	}
	if got := (Plugin{}).KeyPos("x"); got != (Pos{}) {
		t.Errorf("KeyPos on a default plugin = %v, want the zero Pos", got)
	}
}

// TestPluginConfigJSON converts config blocks of every HCL value kind to the
// JSON object a plugin receives.
func TestPluginConfigJSON(t *testing.T) {
	t.Setenv("HEMOSTAT_CONFIG_TEST_KEY", "sk-123")
	unsetEnv(t, "HEMOSTAT_CONFIG_TEST_UNSET")
	tests := []struct {
		name string
		body string
		want string
	}{
		{"absent", ``, `{}`},
		{"empty", `config {}`, `{}`},
		{"scalars", `config {
			s = "x"
			n = 5
			f = 2.5
			b = true
			z = null
		}`, `{"b":true,"f":2.5,"n":5,"s":"x","z":null}`},
		{"nested", `config {
			list = [1, 2, 3]
			mixed = ["a", 1, false]
			obj = { url = "http://127.0.0.1", headers = { "X-Key" = "v" }, tries = [1, 2] }
			empty_list = []
		}`, `{"empty_list":[],"list":[1,2,3],"mixed":["a",1,false],"obj":{"headers":{"X-Key":"v"},"tries":[1,2],"url":"http://127.0.0.1"}}`},
		{"expressions", `config {
			sum = 2 * 21
			joined = "key=${env("HEMOSTAT_CONFIG_TEST_KEY")}"
			fallback = env("HEMOSTAT_CONFIG_TEST_UNSET", "d")
			cond = 1 > 2 ? "a" : "b"
		}`, `{"cond":"b","fallback":"d","joined":"key=sk-123","sum":42}`},
		{"big numbers", `config {
			big = 12345678901234567890
			small = 0.000001
		}`, `{"big":12345678901234567890,"small":0.000001}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustParse(t, "analyzer {\n plugin \"x\" {\n"+tt.body+"\n}\n}\n")
			got := c.Analyzer.Plugins[0].Config
			if string(got) != tt.want {
				t.Errorf("Config = %s, want %s", got, tt.want)
			}
			if !json.Valid(got) {
				t.Errorf("Config is not valid JSON: %s", got)
			}
		})
	}
}

func pluginNames(ps []Plugin) []string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
	}
	return names
}

// TestDataDir: plugin_dir follows data_dir unless set, and neither
// defaults to a folder of the working directory (a source checkout).
func TestDataDir(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", "/xdg")
	if d := Default(); d.DataDir != "/xdg/hemostat" || d.PluginDir != "/xdg/hemostat/plugins" || d.RedisAddrFile() != "/xdg/hemostat/redis.addr" {
		t.Errorf("XDG default: data_dir %q plugin_dir %q", d.DataDir, d.PluginDir)
	}
	t.Setenv("XDG_DATA_HOME", "")
	t.Setenv("HOME", "/home/ann")
	if d := Default(); d.DataDir != "/home/ann/.local/share/hemostat" {
		t.Errorf("home default: %q", d.DataDir)
	}
	t.Setenv("HOME", "")
	if d := Default(); d.DataDir != "/var/lib/hemostat" {
		t.Errorf("no home: %q", d.DataDir)
	}
	for _, tc := range []struct{ src, data, plugins string }{
		{`data_dir = "/srv/h"`, "/srv/h", "/srv/h/plugins"},
		{`data_dir = "/srv/h"` + "\n" + `plugin_dir = "/opt/p"`, "/srv/h", "/opt/p"},
		{`plugin_dir = ""`, "/var/lib/hemostat", "/var/lib/hemostat/plugins"},
	} {
		path := filepath.Join(t.TempDir(), "h.hcl")
		if err := os.WriteFile(path, []byte(tc.src), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		if c.DataDir != tc.data || c.PluginDir != tc.plugins {
			t.Errorf("%s: data_dir %q plugin_dir %q, want %q %q", tc.src, c.DataDir, c.PluginDir, tc.data, tc.plugins)
		}
	}
}
