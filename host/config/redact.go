package config

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
)

// Redaction is what Redacted puts in place of a secret.
const Redaction = "<redacted>"

// secretWords mark a plugin config attribute as a credential by its name,
// for secrets written into the file directly instead of through env().
var secretWords = []string{"password", "passwd", "secret", "token", "api_key", "apikey", "webhook", "credential", "private_key"}

func secretName(name string) bool {
	name = strings.ToLower(name)
	for _, w := range secretWords {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// Redacted is a deep copy of c that is safe to log: the Redis password, the
// HTTP token, and every plugin config attribute that came from env() or is
// named like a credential are replaced by Redaction. Secrets that are unset
// stay "", which shows that they are unset.
func (c *Config) Redacted() *Config {
	r := *c
	r.Redis.Addresses = slices.Clone(c.Redis.Addresses)
	r.Redis.Password = redact(c.Redis.Password)
	r.HTTP.Token = redact(c.HTTP.Token)
	r.Monitor.Plugins = redactPlugins(c.Monitor.Plugins)
	r.Analyzer.Plugins = redactPlugins(c.Analyzer.Plugins)
	r.Responder.Actions = slices.Clone(c.Responder.Actions)
	r.Responder.Protected = slices.Clone(c.Responder.Protected)
	r.Responder.Plugins = redactPlugins(c.Responder.Plugins)
	r.Alert.Plugins = redactPlugins(c.Alert.Plugins)
	return &r
}

func redact(s string) string {
	if s == "" {
		return ""
	}
	return Redaction
}

func redactPlugins(ps []Plugin) []Plugin {
	if ps == nil {
		return nil
	}
	out := make([]Plugin, len(ps))
	for i, p := range ps {
		out[i] = p.redacted()
	}
	return out
}

func (p Plugin) redacted() Plugin {
	p.Events = slices.Clone(p.Events)
	p.secretKeys = slices.Clone(p.secretKeys)
	if p.Ranges != nil {
		ranges := make(map[string]Pos, len(p.Ranges))
		for k, v := range p.Ranges {
			ranges[k] = v
		}
		p.Ranges = ranges
	}
	p.Config = slices.Clone(p.Config)
	if len(p.Config) == 0 {
		return p
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(p.Config, &obj); err != nil {
		// Config is always an object when it comes from Parse; anything
		// else is hidden whole rather than risk showing a secret.
		p.Config = json.RawMessage(`"` + Redaction + `"`)
		return p
	}
	hidden := json.RawMessage(`"` + Redaction + `"`)
	changed := false
	for k, v := range obj {
		if (secretName(k) || slices.Contains(p.secretKeys, k)) && !isEmptyJSON(v) {
			obj[k] = hidden
			changed = true
		}
	}
	if !changed {
		return p
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep "<redacted>" readable
	if err := enc.Encode(obj); err != nil {
		p.Config = hidden
		return p
	}
	p.Config = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	return p
}

// isEmptyJSON is whether a value shows nothing worth hiding: null or "".
func isEmptyJSON(v json.RawMessage) bool {
	s := string(v)
	return s == "null" || s == `""`
}
