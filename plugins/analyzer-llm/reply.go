package llm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode"

	"github.com/hemostat/hemostat/sdk"
)

// reply is the model's answer as it is asked to give it.
type reply struct {
	Verdict    string  `json:"verdict"`
	Action     string  `json:"action"`
	Reason     string  `json:"reason"`
	Confidence float64 `json:"confidence"`
	RootCause  string  `json:"root_cause"`
}

// replySchema is the JSON Schema of a reply, for OpenAI's json_schema
// response format and Anthropic's forced tool.
func replySchema(allowed []string) map[string]any {
	return map[string]any{
		"type": "object",
		"properties": map[string]any{
			"verdict":    map[string]any{"type": "string", "enum": []string{sdk.VerdictRemediate, sdk.VerdictFalseAlarm, sdk.VerdictEscalate}},
			"action":     map[string]any{"type": "string", "enum": append([]string{""}, allowed...)},
			"reason":     map[string]any{"type": "string"},
			"confidence": map[string]any{"type": "number"},
			"root_cause": map[string]any{"type": "string"},
		},
		"required":             []string{"verdict", "action", "reason", "confidence", "root_cause"},
		"additionalProperties": false,
	}
}

// errNoJSON is a reply with no JSON object in it.
var errNoJSON = errors.New("no JSON object in the reply")

// parseReply reads a reply from the model's text: a JSON object, possibly
// inside a code fence or surrounded by prose; the first object wins.
// Fields of the wrong type are errors, not zero values.
func parseReply(text string) (reply, error) {
	obj, err := firstJSONObject(text)
	if err != nil {
		return reply{}, err
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(obj, &raw); err != nil {
		return reply{}, fmt.Errorf("malformed JSON: %v", err)
	}
	var r reply
	for key, dst := range map[string]any{
		"verdict": &r.Verdict, "action": &r.Action, "reason": &r.Reason,
		"confidence": &r.Confidence, "root_cause": &r.RootCause,
	} {
		v, ok := raw[key]
		if !ok || string(v) == "null" {
			continue
		}
		if err := json.Unmarshal(v, dst); err != nil {
			return reply{}, fmt.Errorf("%s is %s, not a %s", key, jsonKind(v), kindOf(dst))
		}
	}
	if _, ok := raw["confidence"]; !ok {
		r.Confidence = math.NaN() // missing is not zero
	}
	return r, nil
}

func jsonKind(v json.RawMessage) string {
	switch t := bytes.TrimSpace(v); {
	case len(t) == 0:
		return "empty"
	case t[0] == '"':
		return "a string"
	case t[0] == '{':
		return "an object"
	case t[0] == '[':
		return "an array"
	case t[0] == 't' || t[0] == 'f':
		return "a boolean"
	default:
		return "a number"
	}
}

func kindOf(dst any) string {
	if _, ok := dst.(*float64); ok {
		return "number"
	}
	return "string"
}

// firstJSONObject finds the first complete, valid JSON object in text.
func firstJSONObject(text string) ([]byte, error) {
	for start := strings.IndexByte(text, '{'); start >= 0; {
		dec := json.NewDecoder(strings.NewReader(text[start:]))
		var obj json.RawMessage
		if err := dec.Decode(&obj); err == nil && len(obj) > 0 && obj[0] == '{' {
			return obj, nil
		}
		next := strings.IndexByte(text[start+1:], '{')
		if next < 0 {
			break
		}
		start += 1 + next
	}
	if strings.Contains(text, "{") {
		return nil, errors.New("malformed JSON in the reply")
	}
	return nil, errNoJSON
}

// Longest reason and root cause passed on: alert plugins show them to
// people, and a model that rambles should not fill a Slack message.
const (
	maxReason    = 300
	maxRootCause = 160
)

// validate checks a reply against what this analyzer may decide and turns
// it into a decision. allowed is this analyzer's actions already narrowed
// to the responder's allowlist.
func (r reply) validate(allowed []string) (sdk.Decision, error) {
	switch r.Verdict {
	case sdk.VerdictRemediate:
		if !slices.Contains(allowed, r.Action) {
			return sdk.Decision{}, fmt.Errorf("action %q is not allowed (%s)", r.Action, strings.Join(allowed, ", "))
		}
	case sdk.VerdictFalseAlarm, sdk.VerdictEscalate:
		r.Action = ""
	case "":
		return sdk.Decision{}, errors.New("no verdict")
	default:
		return sdk.Decision{}, fmt.Errorf("unknown verdict %q", clip(r.Verdict, 40))
	}
	if math.IsNaN(r.Confidence) || r.Confidence < 0 || r.Confidence > 1 {
		return sdk.Decision{}, fmt.Errorf("confidence %v is not a number in [0, 1]", r.Confidence)
	}
	reason := clip(plain(r.Reason), maxReason)
	if reason == "" {
		return sdk.Decision{}, errors.New("empty reason")
	}
	return sdk.Decision{
		Verdict: r.Verdict, Action: r.Action, Reason: reason,
		Confidence: r.Confidence, RootCause: clip(plain(r.RootCause), maxRootCause),
	}, nil
}

// plain collapses whitespace and drops control characters: a reason is one
// line in a log, a Slack message and a dashboard.
func plain(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8Start(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }
