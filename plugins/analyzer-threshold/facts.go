package threshold

import (
	"encoding/json"
	"math"
	"regexp"
	"strconv"
	"strings"

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
	// leak is the monitor's forecast of an OOM kill, when it made one.
	leak *sdk.MemoryForecast
	// cpu and memory are the figures the alert carries, NaN when it
	// carries none. They stand in for the history when there is none.
	cpu    float64
	memory float64

	unknown []string // issues no rule knows
	// byStatus says the exit was read from metrics.status, the issues
	// naming nothing a rule knows.
	byStatus bool
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
	f.readStatus(alert.Metrics)
	if math.IsNaN(f.cpu) {
		f.cpu = metricPct(alert.Metrics, "cpu_pct")
	}
	if math.IsNaN(f.memory) {
		f.memory = metricPct(alert.Metrics, "memory_pct")
	}
	return f
}

// Issue patterns. Monitors other than hemostatd's word their issues in
// their own way ("Container exited with code 1", "High CPU usage: 92.5%",
// "memory high 91%"), so each kind is matched case-insensitively with the
// usual variations; the figure, when there is one, is the last group.
var (
	reRestartLoop = regexp.MustCompile(`(?i)^\s*(container\s+)?(in\s+a\s+)?restart(ing)?[\s_-]*loop\b`)
	reHighCPU     = regexp.MustCompile(`(?i)^\s*(container\s+)?(high\s+)?cpu(\s+usage)?(\s+(is\s+)?high)?\s*[:=]?\s*(at\s+)?([-+0-9.eE]+|n/?a)?\s*%?\s*$`)
	reHighMemory  = regexp.MustCompile(`(?i)^\s*(container\s+)?(high\s+)?mem(ory)?(\s+usage)?(\s+(is\s+)?high)?\s*[:=]?\s*(at\s+)?([-+0-9.eE]+|n/?a)?\s*%?\s*$`)
	reExited      = regexp.MustCompile(`(?i)^\s*(container\s+)?(exited|exit|died|crashed)(\s+with)?(\s+exit)?(\s+code|\s+status)?\s*[:=]?\s*(-?[0-9]+)\s*$`)
	reOOM         = regexp.MustCompile(`(?i)\b(oom([\s_-]*kill(ed)?)?|out[\s_-]+of[\s_-]+memory)\b`)
	reUnhealthy   = regexp.MustCompile(`(?i)\b(unhealthy|health[\s_-]*check(s)?\s+(is\s+)?fail(ing|ed|s)?)\b`)
)

// readIssue reads one issue string; what it cannot read goes to unknown.
func (f *facts) readIssue(issue string) {
	switch {
	case issue == "":
		return
	case reRestartLoop.MatchString(issue):
		f.restartLoopIssue = issue
	case reOOM.MatchString(issue):
		f.oom = true
	case reUnhealthy.MatchString(issue):
		f.unhealthy = true
	case f.readForecast(issue):
	case reHighCPU.MatchString(issue):
		m := reHighCPU.FindStringSubmatch(issue)
		f.highCPU = true
		f.cpu = parsePct(m[len(m)-1])
	case reHighMemory.MatchString(issue):
		m := reHighMemory.FindStringSubmatch(issue)
		f.highMemory = true
		f.memory = parsePct(m[len(m)-1])
	case reExited.MatchString(issue):
		m := reExited.FindStringSubmatch(issue)
		code, err := strconv.Atoi(m[len(m)-1])
		if err != nil {
			f.unknown = append(f.unknown, issue)
			return
		}
		f.exited, f.exitCode = true, code
	default:
		f.unknown = append(f.unknown, issue)
	}
}

// readForecast reads a leak forecast, "High memory: 82.0%, limit in ≈ 40 s
// at +0.9%/s", which is high memory too.
func (f *facts) readForecast(issue string) bool {
	fc, ok := sdk.ParseMemoryForecast(issue)
	if !ok {
		return false
	}
	f.highMemory, f.memory, f.leak = true, fc.Pct, &fc
	return true
}

// readStatus judges an alert whose issues no rule knows by the container
// status its metrics carry: an exited container crashed (with the metrics'
// exit_code when there is one), a restarting one is in Docker's hands.
func (f *facts) readStatus(metrics map[string]any) {
	if len(f.unknown) == 0 || f.exited || f.oom || f.unhealthy || f.highCPU || f.highMemory || f.restartLoopIssue != "" {
		return
	}
	status, _ := metrics["status"].(string)
	switch strings.ToLower(strings.TrimSpace(status)) {
	case "exited", "dead":
		f.exited, f.exitCode, f.byStatus = true, 1, true
		if code := metricPct(metrics, "exit_code"); !math.IsNaN(code) && code == math.Trunc(code) {
			f.exitCode = int(code)
		}
	case "restarting":
		f.exited, f.exitCode, f.restartingByDocker, f.byStatus = true, 1, true, true
	default:
		return
	}
	f.unknown = nil
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
