package config

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/sdk"
)

// What an alert plugin may be routed: the protocol's event types and the
// notification severities.
var (
	eventTypes = protocol.LoggedTypes
	severities = []string{sdk.SeverityInfo, sdk.SeverityWarning, sdk.SeverityCritical}
	// silenceEvents are what a silence may be limited to: an event type
	// the alert role reports, or a notification kind.
	silenceEvents = append([]string{protocol.TypeRemediationComplete, protocol.TypeFalseAlarm, protocol.TypeEscalation, protocol.TypeForeignAction}, sdk.Kinds...)
)

var pluginHeader = hcl.BlockHeaderSchema{Type: "plugin", LabelNames: []string{"name"}}

var pluginSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "path"}, {Name: "sha256"}, {Name: "timeout"}, {Name: "enabled"}, {Name: "env"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "config"}},
}

// alertPluginSchema adds the routing settings only alert plugins have.
var alertPluginSchema = &hcl.BodySchema{
	Attributes: append([]hcl.AttributeSchema{{Name: "events"}, {Name: "min_severity"}, {Name: "containers"}}, pluginSchema.Attributes...),
	Blocks:     pluginSchema.Blocks,
}

// plugins decodes a section's plugin blocks. When the section has any, they
// replace its default list. requireEnabled reports a role that is enabled
// while none of its plugins is.
func (d *decoder) plugins(s *section, section *hcl.Block, role string, requireEnabled bool, dst *[]Plugin) {
	blocks := s.blocks["plugin"]
	if len(blocks) > 0 {
		list := make([]Plugin, 0, len(blocks))
		first := map[string]Pos{}
		for _, b := range blocks {
			p := d.plugin(b, role)
			if at, dup := first[p.Name]; dup {
				d.errorf(p.Pos, "duplicate %s plugin %q; the first is at %s", role, p.Name, at)
				continue
			}
			first[p.Name] = p.Pos
			list = append(list, p)
		}
		*dst = list
	}
	if !requireEnabled {
		return
	}
	for _, p := range *dst {
		if p.Enabled {
			return
		}
	}
	d.errorf(posOf(section.DefRange), "%s is enabled but none of its plugins is; add an enabled plugin or set enabled = false", role)
}

func (d *decoder) plugin(b *hcl.Block, role string) Plugin {
	name := b.Labels[0]
	p := defaultPlugin(name)
	schema := pluginSchema
	switch role {
	case "alert":
		p = defaultAlertPlugin(name)
		schema = alertPluginSchema
	case "responder":
		p = defaultResponderPlugin(name)
	}
	p.Pos = posOf(b.DefRange)
	if msg := pluginName(name); msg != "" {
		d.errorf(posOf(b.LabelRanges[0]), "%s", msg)
	}
	s := d.content(b.Body, schema)
	s.str("path", &p.Path, notEmpty)
	if s.str("sha256", &p.SHA256, sha256Hex) {
		p.SHA256 = strings.ToLower(p.SHA256)
	}
	s.duration("timeout", &p.Timeout, positive)
	s.boolean("enabled", &p.Enabled)
	s.strings("env", &p.Env, envNames, uniqueElements)
	if role == "alert" {
		s.strings("events", &p.Events, eachOneOf(eventTypes...), uniqueElements)
		s.str("min_severity", &p.MinSeverity, oneOf(severities...))
		s.strings("containers", &p.Containers, nonEmptyElements, uniqueElements, globs)
	}
	if cb := s.block("config"); cb != nil {
		d.pluginConfig(cb.Body, &p)
	}
	return p
}

// envNames checks the variable names a plugin block passes on.
func envNames(list []string) string {
	for _, name := range list {
		if !envName.MatchString(name) {
			return fmt.Sprintf("%q is not an environment variable name", name)
		}
	}
	return ""
}

// envName is a portable environment variable name.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// pluginConfig turns a config block's free-form attributes into one JSON
// object, remembering where each is written and which hold secrets.
func (d *decoder) pluginConfig(body hcl.Body, p *Plugin) {
	attrs, diags := body.JustAttributes()
	d.diags(diags)
	vals := make(map[string]cty.Value, len(attrs))
	p.Ranges = make(map[string]Pos, len(attrs))
	for name, a := range attrs {
		p.Ranges[name] = posOf(a.NameRange)
		v, diags := a.Expr.Value(d.ctx)
		if diags.HasErrors() {
			d.diags(diags)
			continue
		}
		if v.ContainsMarked() {
			p.secretKeys = append(p.secretKeys, name)
		}
		v, _ = v.UnmarkDeep()
		if msg := jsonSafe(v); msg != "" {
			d.errorf(posOf(a.Expr.Range()), "%s: %s", name, msg)
			continue
		}
		vals[name] = v
	}
	slices.Sort(p.secretKeys)
	obj := cty.EmptyObjectVal
	if len(vals) > 0 {
		obj = cty.ObjectVal(vals)
	}
	raw, err := ctyjson.Marshal(obj, obj.Type())
	if err != nil {
		d.errorf(p.Pos, "config: %s", err)
		return
	}
	p.Config = json.RawMessage(raw)
}

// jsonSafe checks that every number in v is within float64's range: JSON decoders in
// plugins read numbers as float64, and writing a number like 1e100000000 in
// decimal would take minutes.
func jsonSafe(v cty.Value) string {
	var msg string
	_ = cty.Walk(v, func(_ cty.Path, v cty.Value) (bool, error) {
		if msg != "" || v.IsNull() || !v.IsKnown() || v.Type() != cty.Number {
			return msg == "", nil
		}
		bf := v.AsBigFloat()
		switch exp := bf.MantExp(nil); {
		case bf.IsInf() || exp > 1024:
			msg = "a number is too large"
		case bf.Sign() != 0 && exp < -1074:
			msg = "a number is too small"
		}
		return msg == "", nil
	})
	return msg
}
