package threshold

import (
	"fmt"
	"time"

	"github.com/hemostat/hemostat/sdk"
)

// Rule severities: when an alert carries several issues, the most severe
// verdict wins, and within a verdict the most severe rule.
const (
	severityUnknown = iota
	severityCleanExit
	severityCPU
	severityMemory
	severityUnhealthy
	severityExit
	severityOOM
	severityRestartLoop
)

// Confidences of the rules' decisions.
const (
	confidenceCertain  = 0.9 // a fact: a crash, an OOM kill, a loop
	confidenceTrend    = 0.8 // a trend over the window; a clean or requested exit
	confidenceHealth   = 0.7 // a failing healthcheck may be a dependency's fault
	confidenceSpike    = 0.6 // a lone spike or a falling figure: likely, not sure
	confidenceNoTrend  = 0.5 // one figure, no history to judge it by
	confidenceNoFigure = 0.3 // nothing to judge at all
)

// flatBand is how far, in percentage points, the fitted CPU line may move
// across the window and still count as flat: CPU figures are noisy.
const flatBand = 5.0

// risingSlope is the least-squares slope, in percentage points per sample,
// above which memory counts as rising. Memory figures are smooth, so the
// band only keeps rounding noise on a flat line from reading as a leak.
const risingSlope = 0.05

// finding is one rule's judgement.
type finding struct {
	severity int
	decision sdk.Decision
}

func restart(severity int, confidence float64, reason string) finding {
	return finding{severity, sdk.Decision{Verdict: sdk.VerdictRemediate, Action: sdk.ActionRestart, Reason: reason, Confidence: confidence}}
}

// memoryRemedy is the configured answer to memory trouble: a restart, or
// a raised limit. cause says what was seen, without the remedy.
func memoryRemedy(cfg Config, severity int, confidence float64, cause string) finding {
	if cfg.MemoryAction == sdk.ActionUpdateResources {
		return finding{severity, sdk.Decision{
			Verdict: sdk.VerdictRemediate, Action: sdk.ActionUpdateResources, Confidence: confidence,
			Reason: cause + "; raising its memory limit",
		}}
	}
	return restart(severity, confidence, cause+"; restarting")
}

func falseAlarm(severity int, confidence float64, reason string) finding {
	return finding{severity, sdk.Decision{Verdict: sdk.VerdictFalseAlarm, Reason: reason, Confidence: confidence}}
}

func escalate(reason string) finding {
	return finding{severityRestartLoop, sdk.Decision{Verdict: sdk.VerdictEscalate, Reason: reason, Confidence: confidenceCertain}}
}

// restartLoopRule escalates a container a monitor reports in a restart
// loop: one more restart would not help, a person has to look. Loops of
// hemostatd's own restarts are not counted here: the responder's breaker
// is the one policy for those, so the analyzer never cuts the backoff short.
func restartLoopRule(f facts) (finding, bool) {
	if f.restartLoopIssue == "" {
		return finding{}, false
	}
	return escalate(fmt.Sprintf("the monitor reports %q; restarting again would not help; escalating to a person", f.restartLoopIssue)), true
}

// oomRemedy answers an OOM kill with the configured memory remedy.
func oomRemedy(cfg Config, f facts) finding {
	cause := "OOM killed"
	if f.exited {
		cause = fmt.Sprintf("exited with code %d after an OOM kill", f.exitCode)
	}
	if cfg.MemoryAction == sdk.ActionUpdateResources {
		return memoryRemedy(cfg, severityOOM, confidenceCertain, cause)
	}
	return restart(severityOOM, confidenceCertain, cause+"; restarting (the memory limit may be too low)")
}

// exitRule judges a container that stopped: a crash or an OOM kill is
// restarted; a clean exit or a stop someone asked for is not a crash.
func exitRule(cfg Config, f facts) (finding, bool) {
	switch {
	case f.exited && f.exitCode == 0:
		return falseAlarm(severityCleanExit, confidenceTrend, "exited with code 0; a clean exit is not a crash"), true
	case f.oom && !f.restartingByDocker:
		// An OOM kill is never a requested stop, whatever came before it.
		return oomRemedy(cfg, f), true
	case f.oom && cfg.MemoryAction == sdk.ActionUpdateResources:
		// Docker restarts it, into the same too-small limit: raising the
		// limit races nothing.
		return oomRemedy(cfg, f), true
	case f.exited && f.stopRequested:
		return falseAlarm(severityExit, confidenceTrend, fmt.Sprintf("exited with code %d after a requested stop; not a crash", f.exitCode)), true
	case f.exited && f.restartingByDocker && f.byStatus:
		return falseAlarm(severityExit, confidenceHealth, "the alert's issues name nothing a rule knows, and its metrics say Docker is restarting the container; a second restart would race it"), true
	case f.exited && f.restartingByDocker:
		return falseAlarm(severityExit, confidenceHealth, fmt.Sprintf("exited with code %d; Docker's restart policy is already restarting it, a second restart would race it", f.exitCode)), true
	case f.exited && f.byStatus:
		return restart(severityExit, confidenceCertain, fmt.Sprintf("the alert's issues name nothing a rule knows, but its metrics say the container exited (code %d); restarting", f.exitCode)), true
	case f.exited:
		return restart(severityExit, confidenceCertain, fmt.Sprintf("exited with code %d; restarting", f.exitCode)), true
	}
	return finding{}, false
}

func unhealthyRule(f facts) (finding, bool) {
	if !f.unhealthy {
		return finding{}, false
	}
	return restart(severityUnhealthy, confidenceHealth, "health check failing; restarting"), true
}

// cpuRule restarts a container whose CPU stays above the line; a spike that
// is already over, or a single sample above it, is a false alarm.
func cpuRule(cfg Config, f facts, s series) (finding, bool) {
	if !f.highCPU {
		return finding{}, false
	}
	line := formatPct(cfg.CPUPct)
	if len(s) == 0 {
		return falseAlarm(severityCPU, confidenceNoFigure, "high CPU reported without a figure or a history to judge it by"), true
	}
	latest, above := s.last(), s.countAbove(cfg.CPUPct)
	switch {
	case above == 0:
		return falseAlarm(severityCPU, confidenceTrend, fmt.Sprintf("CPU %s%% is below the %s%% line in %s", formatPct(s.max()), line, samplesPhrase(len(s)))), true
	case latest <= cfg.CPUPct:
		return falseAlarm(severityCPU, confidenceTrend, fmt.Sprintf("CPU back to %s%% after a spike to %s%% in %s", formatPct(latest), formatPct(s.max()), samplesPhrase(len(s)))), true
	case len(s) == 1:
		return restart(severityCPU, confidenceNoTrend, fmt.Sprintf("CPU %s%% is above the %s%% line, with no history to tell a spike from a trend; restarting", formatPct(latest), line)), true
	case above == 1:
		return falseAlarm(severityCPU, confidenceSpike, fmt.Sprintf("a lone spike: CPU %s%% in only one of %s; one sample is not a trend", formatPct(latest), samplesPhrase(len(s)))), true
	}
	change := s.fittedChange()
	if change < -flatBand {
		return falseAlarm(severityCPU, confidenceSpike, fmt.Sprintf("CPU %s%% is above the %s%% line but falling over %s %s; waiting for it to settle", formatPct(latest), line, samplesPhrase(len(s)), formatRange(s))), true
	}
	trend := "flat"
	if change > flatBand {
		trend = "rising"
	}
	if above == len(s) && len(s) >= cfg.SpikeWindow {
		return restart(severityCPU, confidenceCertain, fmt.Sprintf("CPU %s%% and %s, above the %s%% line in every one of %s %s; restarting", formatPct(latest), trend, line, samplesPhrase(len(s)), formatRange(s))), true
	}
	return restart(severityCPU, confidenceTrend, fmt.Sprintf("CPU %s%% and %s over %s %s; restarting", formatPct(latest), trend, samplesPhrase(len(s)), formatRange(s))), true
}

// memoryRule restarts a container whose memory is above the line and still
// rising: a leak, which a restart stops for a while. Memory that is high
// and flat is a steady load: a restart would only hand the memory back
// until it is taken again, but the container is one spike from an OOM
// kill, so it is a capacity warning for a person — or, when the responder
// may, a raised limit. Memory that is falling fast enough to be below the
// line within another window is a false alarm.
func memoryRule(cfg Config, f facts, s series) (finding, bool) {
	if !f.highMemory {
		return finding{}, false
	}
	if f.leak != nil {
		return leakRule(cfg, *f.leak), true
	}
	line := formatPct(cfg.MemoryPct)
	if len(s) == 0 {
		return falseAlarm(severityMemory, confidenceNoFigure, "high memory reported without a figure or a history to judge it by"), true
	}
	latest := s.last()
	switch {
	case latest <= cfg.MemoryPct:
		return falseAlarm(severityMemory, confidenceTrend, fmt.Sprintf("memory %s%% is below the %s%% line", formatPct(latest), line)), true
	case len(s) == 1:
		return memoryRemedy(cfg, severityMemory, confidenceNoTrend, fmt.Sprintf("memory %s%% is above the %s%% line, with no history to tell a leak from a steady load", formatPct(latest), line)), true
	}
	slope := s.slope()
	if slope > risingSlope {
		return memoryRemedy(cfg, severityMemory, confidenceTrend, fmt.Sprintf("memory %s%% and rising over %s %s, above the %s%% line: likely a leak", formatPct(latest), samplesPhrase(len(s)), formatRange(s), line)), true
	}
	if slope < -risingSlope {
		// Falling counts only when, at this rate, it is below the line
		// within another window: a steady load that a GC eases by a
		// fraction of a point is still one spike from an OOM kill.
		if latest+slope*float64(len(s)) <= cfg.MemoryPct {
			return falseAlarm(severityMemory, confidenceSpike, fmt.Sprintf("memory %s%% is above the %s%% line but falling over %s %s: already coming down, not a leak; a restart would not help", formatPct(latest), line, samplesPhrase(len(s)), formatRange(s))), true
		}
		return capacityWarning(cfg, fmt.Sprintf("memory %s%% is above the %s%% line and easing too slowly over %s %s to leave it soon: a steady load, not a leak, one spike from an OOM kill; a restart would not help", formatPct(latest), line, samplesPhrase(len(s)), formatRange(s))), true
	}
	return capacityWarning(cfg, fmt.Sprintf("memory %s%% is above the %s%% line and flat over %s %s: a steady load, not a leak, one spike from an OOM kill; a restart would not help", formatPct(latest), line, samplesPhrase(len(s)), formatRange(s))), true
}

// leakRule answers a monitor's forecast that memory reaches its limit
// soon. The monitor only forecasts from a rise well clear of its noise, so
// the line of memory_pct does not apply: a leak caught at 60 % is still an
// OOM kill on its way, and waiting for the line would leave it no time.
func leakRule(cfg Config, fc sdk.MemoryForecast) finding {
	return memoryRemedy(cfg, severityMemory, confidenceTrend, fmt.Sprintf(
		"memory %s%% rising %.2g%%/s reaches the limit in about %s: a leak, an OOM kill on its way",
		formatPct(fc.Pct), fc.SlopePctPerSec, fc.In.Round(time.Second)))
}

// capacityWarning answers a container that needs more than it has: a
// raised limit when the responder may raise it, else a warning to a person.
func capacityWarning(cfg Config, cause string) finding {
	if cfg.MemoryAction == sdk.ActionUpdateResources || cfg.ResizeAllowed {
		return finding{severityMemory, sdk.Decision{
			Verdict: sdk.VerdictRemediate, Action: sdk.ActionUpdateResources, Confidence: confidenceTrend,
			Reason: cause + "; raising its memory limit",
		}}
	}
	return finding{severityMemory, sdk.Decision{
		Verdict: sdk.VerdictEscalate, Severity: sdk.SeverityWarning, Confidence: confidenceTrend,
		Reason: "capacity warning: " + cause + "; raise its memory limit (or allow update_resources in responder.actions)",
	}}
}

// unknownRule answers issues no rule knows. It is never an error: the
// threshold analyzer is the last in the chain and must always decide.
func unknownRule(f facts) (finding, bool) {
	if len(f.unknown) == 0 {
		return finding{}, false
	}
	return falseAlarm(severityUnknown, confidenceNoFigure, "no rule for "+quoteList(f.unknown)), true
}
