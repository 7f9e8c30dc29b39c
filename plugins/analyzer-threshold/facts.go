package threshold

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/sdk"
)

// facts is what one alert says about its container, gathered from its
// issue strings (what every monitor sends), the sample that raised it (what
// hemostatd's own monitor adds) and its metrics.
type facts struct {
	restartLoopIssue string // the "Restart loop: …" issue, if any

	exited   bool
	exitCode int
	oom      bool
	// stopRequested and restartingByDocker qualify an exit: a person
	// stopped the container, or Docker's restart policy is already on it.
	stopRequested      bool
	restartingByDocker bool

	unhealthy bool

	highCPU    bool
	highMemory bool
	// cpu and memory are the figures the alert carries, NaN when it
	// carries none. They stand in for the history when there is none.
	cpu    float64
	memory float64

	unknown []string // issues no rule knows
}

// factsOf reads an alert. It never fails: what it cannot read ends up in
// unknown, where the analyzer reports it.
func factsOf(alert sdk.Alert) facts {
	f := facts{cpu: math.NaN(), memory: math.NaN()}
	for _, issue := range alert.Issues {
		f.readIssue(strings.TrimSpace(issue))
	}
	if s := alert.Sample; s != nil {
		f.readSample(*s)
	}
	if math.IsNaN(f.cpu) {
		f.cpu = metricPct(alert.Metrics, "cpu_pct")
	}
	if math.IsNaN(f.memory) {
		f.memory = metricPct(alert.Metrics, "memory_pct")
	}
	return f
}

func (f *facts) readIssue(issue string) {
	switch {
	case issue == "":
		return
	case hasPrefixFold(issue, protocol.IssuePrefixRestartLoop):
		f.restartLoopIssue = issue
	case hasPrefixFold(issue, protocol.IssuePrefixHighCPU):
		f.highCPU = true
		f.cpu = parsePct(issue[len(protocol.IssuePrefixHighCPU):])
	case hasPrefixFold(issue, protocol.IssuePrefixHighMemory):
		f.highMemory = true
		f.memory = parsePct(issue[len(protocol.IssuePrefixHighMemory):])
	case hasPrefixFold(issue, protocol.IssuePrefixExited):
		code, err := strconv.Atoi(strings.TrimSpace(issue[len(protocol.IssuePrefixExited):]))
		if err != nil {
			f.unknown = append(f.unknown, issue)
			return
		}
		f.exited, f.exitCode = true, code
	case strings.EqualFold(issue, protocol.IssueOOMKilled):
		f.oom = true
	case strings.EqualFold(issue, protocol.IssueUnhealthy):
		f.unhealthy = true
	default:
		f.unknown = append(f.unknown, issue)
	}
}

// readSample adds what the alerting sample knows and the issue strings
// may not say, such as an OOM kill behind "Exited with code 137".
func (f *facts) readSample(s sdk.Sample) {
	switch s.Event {
	case sdk.EventDie:
		f.exited, f.exitCode = true, s.ExitCode
	case sdk.EventOOM:
		f.oom = true
	case sdk.EventHealthStatus:
		if s.Health == sdk.HealthUnhealthy {
			f.unhealthy = true
		}
	case "":
		// A resource sample: its figures are more precise than the
		// issue strings' one decimal.
		if validPct(s.CPUPct) {
			f.cpu = s.CPUPct
		}
		if validPct(s.MemoryPct) {
			f.memory = s.MemoryPct
		}
	}
	if s.OOMKilled {
		f.oom = true
	}
	f.stopRequested = f.stopRequested || s.StopRequested
	f.restartingByDocker = f.restartingByDocker || s.RestartingByDocker
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// parsePct reads "92.5%" (the percent sign optional); NaN if it cannot.
func parsePct(s string) float64 {
	v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "%")), 64)
	if err != nil || !validPct(v) {
		return math.NaN()
	}
	return v
}

// metricPct reads a percentage from an alert's metrics, where an external
// monitor may have written it as a number or as a string.
func metricPct(metrics map[string]any, key string) float64 {
	switch v := metrics[key].(type) {
	case float64:
		if validPct(v) {
			return v
		}
	case json.Number:
		return parsePct(v.String())
	case string:
		return parsePct(v)
	case int:
		return float64(v)
	case int64:
		return float64(v)
	}
	return math.NaN()
}

func validPct(v float64) bool {
	return v >= 0 && !math.IsInf(v, 0) && !math.IsNaN(v)
}
