package sdk

import "strings"

// Container labels HemoStat reads. They are part of the product's contract
// with its users, so every part — host and plugins — spells and parses
// them the same way.
const (
	// LabelEnable opts a container out (false) or, where opting in is
	// required, in (true).
	LabelEnable = "hemostat.enable"
	// LabelCPUPct and LabelMemoryPct are a container's own thresholds.
	LabelCPUPct    = "hemostat.cpu_pct"
	LabelMemoryPct = "hemostat.memory_pct"
	// LabelStopTimeout is the seconds a restart waits for a graceful stop.
	LabelStopTimeout = "hemostat.stop_timeout"
)

// ParseSwitch reads an on/off label value the way people write it in
// compose files: true/1/yes/on and false/0/no/off, in any case. known is
// false for anything else.
func ParseSwitch(value string) (on, known bool) {
	switch strings.ToLower(strings.TrimSpace(value)) {
	case "true", "1", "yes", "on":
		return true, true
	case "false", "0", "no", "off":
		return false, true
	}
	return false, false
}

// OptedOut reports whether labels opt a container out of HemoStat.
func OptedOut(labels map[string]string) bool {
	value, ok := labels[LabelEnable]
	if !ok {
		return false
	}
	on, known := ParseSwitch(value)
	return known && !on
}
