package daemontest

import (
	"regexp"
	"strings"
	"time"

	"github.com/hemostat/hemostat/host/protocol"
)

// Message is one envelope seen on a HemoStat channel.
type Message struct {
	Channel string
	Raw     string         // the payload as published
	Env     map[string]any // the payload decoded; nil if it is not JSON
	At      time.Time      // when the watcher received it
}

// Match selects messages; a nil Match selects every message.
type Match func(Message) bool

// StatusIs matches a remediation_complete whose result has status.
func StatusIs(status string) Match {
	return func(m Message) bool { return m.Str("result", "status") == status }
}

// Type is the event type, the channel name without the HemoStat prefix.
func (m Message) Type() string { return strings.TrimPrefix(m.Channel, protocol.Prefix) }

// Data is the envelope's data object, or nil.
func (m Message) Data() map[string]any {
	d, _ := m.Env["data"].(map[string]any)
	return d
}

// Container is data.container, or "".
func (m Message) Container() string { return m.Str("container") }

// Result is data.result, or nil.
func (m Message) Result() map[string]any {
	r, _ := m.Data()["result"].(map[string]any)
	return r
}

// Issues is data.issues, the strings of a health_alert.
func (m Message) Issues() []string {
	var out []string
	list, _ := m.Data()["issues"].([]any)
	for _, is := range list {
		s, _ := is.(string)
		out = append(out, s)
	}
	return out
}

// Str returns the string at a path of keys below data, or "".
func (m Message) Str(path ...string) string {
	var cur any = m.Data()
	for _, k := range path {
		obj, _ := cur.(map[string]any)
		cur = obj[k]
	}
	s, _ := cur.(string)
	return s
}

// figures hides the numbers of resource issues, which vary run to run.
var figures = regexp.MustCompile(`\d+(\.\d+)?%`)

// Summary is one line saying what the envelope is, what a test's exact
// expectations of a sequence of envelopes are written in:
//
//	health_alert Exited with code 3
//	health_alert High CPU: N%
//	remediation_needed restart
//	remediation_complete restart success
//	false_alarm
//	escalation circuit_breaker restart
func (m Message) Summary() string {
	switch m.Type() {
	case protocol.TypeHealthAlert:
		return m.Type() + " " + figures.ReplaceAllString(strings.Join(m.Issues(), "; "), "N%")
	case protocol.TypeRemediationNeeded:
		return m.Type() + " " + m.Str("action")
	case protocol.TypeRemediationComplete:
		return m.Type() + " " + m.Str("action") + " " + m.Str("result", "status")
	case protocol.TypeEscalation:
		return m.Type() + " " + m.Str("source") + " " + m.Str("action")
	}
	return m.Type()
}
