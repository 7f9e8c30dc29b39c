package config

import (
	"path/filepath"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Each section of the file is decoded over the defaults already in place,
// so an attribute left out keeps its default.

var logLevels = []string{"trace", "debug", "info", "warn", "error"}

var rootSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "log_level"}, {Name: "log_format"}, {Name: "data_dir"}, {Name: "plugin_dir"},
		{Name: "host"}, {Name: "fleet"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "redis"}, {Type: "lease"}, {Type: "http"}, {Type: "monitor"},
		{Type: "analyzer"}, {Type: "responder"}, {Type: "alert"},
	},
}

func (d *decoder) root(body hcl.Body, c *Config) {
	s := d.content(body, rootSchema)
	s.str("log_level", &c.LogLevel, oneOf(logLevels...))
	s.str("log_format", &c.LogFormat, oneOf("text", "json"))
	// Empty means the default, so that the sample file can show both.
	var dataDir, pluginDir string
	if s.str("data_dir", &dataDir) {
		c.DataDir = dataDir
		if dataDir == "" {
			c.DataDir = DefaultDataDir()
		}
	}
	if s.str("plugin_dir", &pluginDir) && pluginDir != "" {
		c.PluginDir = pluginDir
	} else {
		c.PluginDir = filepath.Join(c.DataDir, "plugins")
	}
	s.str("host", &c.Host, orEmpty(hostName))
	s.boolean("fleet", &c.Fleet)
	before := len(d.errs)
	if b := s.block("redis"); b != nil {
		d.redis(b, &c.Redis)
	}
	// Checked only when the redis block itself is right, so that one
	// mistake is reported once.
	if c.Fleet && len(c.Redis.Addresses) == 0 && len(d.errs) == before {
		pos, _ := s.pos("fleet")
		d.errorf(pos, "fleet: the daemons of a fleet meet in one shared Redis, not each in its own embedded one; set redis { address = ... }")
	}
	if b := s.block("lease"); b != nil {
		d.lease(b, &c.Lease)
	}
	if b := s.block("http"); b != nil {
		d.http(b, &c.HTTP)
	}
	if b := s.block("monitor"); b != nil {
		d.monitor(b, &c.Monitor)
	}
	if b := s.block("analyzer"); b != nil {
		d.analyzer(b, &c.Analyzer)
	}
	if b := s.block("responder"); b != nil {
		d.responder(b, &c.Responder)
	}
	if b := s.block("alert"); b != nil {
		d.alert(b, &c.Alert)
	}
}

var redisSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "address"}, {Name: "addresses"}, {Name: "sentinel_master"},
		{Name: "username"}, {Name: "password"}, {Name: "db"},
		{Name: "delivery"}, {Name: "claim_min_idle"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "tls"}},
}

func (d *decoder) redis(b *hcl.Block, r *Redis) {
	s := d.content(b.Body, redisSchema)
	// Checks that depend on the addresses are skipped when the addresses
	// themselves are wrong, so one mistake is reported once.
	before := len(d.errs)
	var addr string
	if s.str("address", &addr, orEmpty(hostPort)) {
		r.Addresses = nil
		if addr != "" {
			r.Addresses = []string{addr}
		}
	}
	if _, ok := s.attrs["address"]; ok {
		if pos, ok := s.pos("addresses"); ok {
			d.errorf(pos, "addresses: set address or addresses, not both")
		}
	} else {
		s.strings("addresses", &r.Addresses, nonEmptyElements, uniqueElements, hostPorts)
	}
	addressesOK := len(d.errs) == before
	s.str("sentinel_master", &r.SentinelMaster)
	s.str("username", &r.Username)
	s.str("password", &r.Password)
	s.integer("db", &r.DB, atLeast(0))
	if addressesOK && r.SentinelMaster != "" && len(r.Addresses) == 0 {
		pos, _ := s.pos("sentinel_master")
		d.errorf(pos, "sentinel_master: the sentinels' addresses are required")
	}
	s.str("delivery", &r.Delivery, oneOf(DeliveryPubSub, DeliveryStreams))
	s.duration("claim_min_idle", &r.ClaimMinIdle, positive)
	if addressesOK && r.Delivery == DeliveryStreams && len(r.Addresses) == 0 {
		pos, _ := s.pos("delivery")
		d.errorf(pos, "delivery: streams keep work across a restart only in an external Redis; set an address")
	}
	if tb := s.block("tls"); tb != nil {
		d.tls(tb, &r.TLS)
		if addressesOK && r.TLS.Enabled && len(r.Addresses) == 0 {
			d.errorf(posOf(tb.DefRange), "tls: the embedded Redis does not use TLS; set an address or disable tls")
		}
	}
}

var tlsSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "enabled"}, {Name: "ca_file"}, {Name: "cert_file"}, {Name: "key_file"},
		{Name: "server_name"}, {Name: "insecure_skip_verify"},
	},
}

func (d *decoder) tls(b *hcl.Block, t *TLS) {
	s := d.content(b.Body, tlsSchema)
	s.boolean("enabled", &t.Enabled)
	s.str("ca_file", &t.CAFile)
	s.str("cert_file", &t.CertFile)
	s.str("key_file", &t.KeyFile)
	s.str("server_name", &t.ServerName)
	s.boolean("insecure_skip_verify", &t.InsecureSkipVerify)
	if (t.CertFile == "") != (t.KeyFile == "") {
		pos := posOf(b.DefRange)
		if p, ok := s.pos("cert_file"); ok {
			pos = p
		} else if p, ok := s.pos("key_file"); ok {
			pos = p
		}
		d.errorf(pos, "tls: cert_file and key_file go together; set both or neither")
	}
}

var httpSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "address"}, {Name: "token"}, {Name: "pprof"}},
}

func (d *decoder) http(b *hcl.Block, h *HTTP) {
	s := d.content(b.Body, httpSchema)
	s.str("address", &h.Address, orEmpty(listenAddr))
	s.str("token", &h.Token)
	s.boolean("pprof", &h.Pprof)
	if h.Address != "" && !isLoopback(h.Address) && h.Token == "" {
		pos, ok := s.pos("address")
		if !ok {
			pos = posOf(b.DefRange)
		}
		d.errorf(pos, "address: %q is reachable beyond loopback, so a token is required; set token = env(\"HEMOSTAT_TOKEN\")", h.Address)
	}
}

var monitorSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "enabled"}, {Name: "cpu_pct"}, {Name: "memory_pct"},
		{Name: "sustain"}, {Name: "grace"}, {Name: "realert"},
		{Name: "leak_forecast"}, {Name: "leak_horizon"}, {Name: "leak_samples"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "restart_loop"}, pluginHeader},
}

func (d *decoder) monitor(b *hcl.Block, m *Monitor) {
	s := d.content(b.Body, monitorSchema, "plugin")
	s.boolean("enabled", &m.Enabled)
	s.number("cpu_pct", &m.CPUPct, percent)
	s.number("memory_pct", &m.MemoryPct, percent)
	s.duration("sustain", &m.Sustain, nonNegative)
	s.duration("grace", &m.Grace, nonNegative)
	s.duration("realert", &m.Realert, positive)
	s.boolean("leak_forecast", &m.LeakForecast)
	s.duration("leak_horizon", &m.LeakHorizon, positive)
	// Three points fix a line and its error; past a few minutes of 5 s
	// samples the line averages over a leak that changed pace.
	s.integer("leak_samples", &m.LeakSamples, atLeast(3), atMost(60))
	if rb := s.block("restart_loop"); rb != nil {
		// Three rules used to disagree; the breaker is now the only one.
		d.errorf(posOf(rb.DefRange), "restart_loop: removed; a restart loop is set in one place, responder { breaker { max_actions, window } }, which also bounds the restarts Docker's own restart policy makes")
	}
	d.plugins(s, b, "monitor", m.Enabled, &m.Plugins)
}

var analyzerSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "enabled"}, {Name: "workers"}},
	Blocks:     []hcl.BlockHeaderSchema{pluginHeader},
}

func (d *decoder) analyzer(b *hcl.Block, a *Analyzer) {
	s := d.content(b.Body, analyzerSchema, "plugin")
	s.boolean("enabled", &a.Enabled)
	s.integer("workers", &a.Workers, atLeast(1), atMost(4096))
	d.plugins(s, b, "analyzer", a.Enabled, &a.Plugins)
}

var responderSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "enabled"}, {Name: "dry_run"}, {Name: "min_confidence"}, {Name: "actions"},
		{Name: "protected"}, {Name: "require_opt_in"}, {Name: "cooldown"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "backoff"}, {Type: "breaker"}, pluginHeader},
}

func (d *decoder) responder(b *hcl.Block, r *Responder) {
	s := d.content(b.Body, responderSchema, "plugin")
	s.boolean("enabled", &r.Enabled)
	s.boolean("dry_run", &r.DryRun)
	s.number("min_confidence", &r.MinConfidence, confidence)
	s.strings("actions", &r.Actions, nonEmptyElements, uniqueElements)
	s.strings("protected", &r.Protected, nonEmptyElements, globs)
	s.boolean("require_opt_in", &r.RequireOptIn)
	s.duration("cooldown", &r.Cooldown, nonNegative)
	if bb := s.block("backoff"); bb != nil {
		bs := d.content(bb.Body, &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
			{Name: "initial"}, {Name: "max"}, {Name: "reset_after"},
		}})
		bs.duration("initial", &r.Backoff.Initial, positive)
		bs.duration("max", &r.Backoff.Max, positive)
		bs.duration("reset_after", &r.Backoff.ResetAfter, positive)
		if r.Backoff.Max < r.Backoff.Initial {
			pos, ok := bs.pos("max")
			if !ok {
				pos, _ = bs.pos("initial")
			}
			d.errorf(pos, "backoff: max (%s) is less than initial (%s)", r.Backoff.Max, r.Backoff.Initial)
		}
	}
	if bb := s.block("breaker"); bb != nil {
		bs := d.content(bb.Body, &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
			{Name: "max_actions"}, {Name: "window"},
		}})
		bs.integer("max_actions", &r.Breaker.MaxActions, atLeast(1))
		bs.duration("window", &r.Breaker.Window, positive)
	}
	d.plugins(s, b, "responder", r.Enabled, &r.Plugins)
}

var alertSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "enabled"}, {Name: "dedupe_window"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "storm"}, {Type: "trouble"}, {Type: "silence"}, pluginHeader},
}

var troubleSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "redis_grace"}, {Name: "plugin_stable"}, {Name: "repeat"}},
}

var stormSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "containers"}, {Name: "window"}, {Name: "wait"}},
}

var silenceSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "containers", Required: true}, {Name: "event"}, {Name: "until", Required: true}, {Name: "comment"},
	},
}

func (d *decoder) alert(b *hcl.Block, a *Alert) {
	s := d.content(b.Body, alertSchema, "plugin", "silence")
	s.boolean("enabled", &a.Enabled)
	s.duration("dedupe_window", &a.DedupeWindow, nonNegative)
	if sb := s.block("storm"); sb != nil {
		ss := d.content(sb.Body, stormSchema)
		ss.integer("containers", &a.Storm.Containers, atLeast(0))
		ss.duration("window", &a.Storm.Window, positive)
		ss.duration("wait", &a.Storm.Wait, positive)
	}
	if tb := s.block("trouble"); tb != nil {
		ts := d.content(tb.Body, troubleSchema)
		ts.duration("redis_grace", &a.Trouble.RedisGrace, positive)
		ts.duration("plugin_stable", &a.Trouble.PluginStable, positive)
		ts.duration("repeat", &a.Trouble.Repeat, positive)
	}
	for _, sb := range s.blocks["silence"] {
		a.Silences = append(a.Silences, d.silence(sb))
	}
	// The built-in log alert always runs, so an alert section without an
	// enabled plugin is fine.
	d.plugins(s, b, "alert", false, &a.Plugins)
}

func (d *decoder) silence(b *hcl.Block) Silence {
	ss := d.content(b.Body, silenceSchema)
	sil := Silence{Pos: posOf(b.DefRange)}
	ss.str("containers", &sil.Containers, notEmpty, glob)
	ss.str("event", &sil.Event, orEmpty(oneOf(silenceEvents...)))
	var until string
	if ss.str("until", &until, rfc3339) {
		sil.Until, _ = time.Parse(time.RFC3339, until)
	}
	ss.str("comment", &sil.Comment)
	return sil
}

func notEmpty(s string) string {
	if s == "" {
		return "must not be empty"
	}
	return ""
}

// orEmpty lets "" through c, for settings where empty means off.
func orEmpty(c check[string]) check[string] {
	return func(s string) string {
		if s == "" {
			return ""
		}
		return c(s)
	}
}
