package threshold

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/hemostat/hemostat/sdk"
)

// Name is the analyzer's name in hemostatd's config and logs.
const Name = "threshold"

// Analyzer is the rule-based analyzer. The zero value uses the default
// settings, like New.
type Analyzer struct {
	// cfg is swapped whole by Configure while Analyze calls may be in
	// flight on other goroutines; nil means the defaults.
	cfg atomic.Pointer[Config]
}

var _ sdk.Analyzer = (*Analyzer)(nil)

// New returns an analyzer with the default settings.
func New() *Analyzer {
	return &Analyzer{}
}

// Configure applies the analyzer's config block. On error the previous
// settings stay in force.
func (a *Analyzer) Configure(ctx context.Context, raw json.RawMessage, _ sdk.Host) error {
	cfg, err := ParseConfig(raw)
	if err != nil {
		return err
	}
	cfg.ResizeAllowed = slices.Contains(sdk.ResponderActions(ctx), sdk.ActionUpdateResources)
	a.cfg.Store(&cfg)
	return nil
}

// Config returns the settings in force.
func (a *Analyzer) Config() Config {
	if cfg := a.cfg.Load(); cfg != nil {
		return *cfg
	}
	return DefaultConfig()
}

// Analyze judges one alert. It always returns a decision and never an
// error: it is the fallback of every other analyzer.
func (a *Analyzer) Analyze(_ context.Context, req sdk.AnalyzeRequest) (sdk.Decision, error) {
	return a.decide(req), nil
}

func (a *Analyzer) decide(req sdk.AnalyzeRequest) sdk.Decision {
	cfg := a.Config()
	f := factsOf(req.Alert)

	// A restart loop takes precedence over everything: whatever the
	// alert says, hemostatd must not restart the container again.
	if loop, ok := restartLoopRule(f); ok {
		return loop.decision
	}

	var findings []finding
	add := func(fd finding, ok bool) {
		if ok {
			findings = append(findings, fd)
		}
	}
	add(exitRule(cfg, f))
	add(unhealthyRule(f))
	add(memoryRule(cfg, f, seriesOf(req.History, req.Alert, f.memory, cfg.SpikeWindow, memoryOf)))
	add(cpuRule(cfg, f, seriesOf(req.History, req.Alert, f.cpu, cfg.SpikeWindow, cpuOf)))
	add(unknownRule(f))
	if len(findings) == 0 {
		return sdk.Decision{Verdict: sdk.VerdictFalseAlarm, Reason: "the alert names no issue", Confidence: confidenceNoFigure}
	}
	return combine(findings)
}

// verdictRank orders decisions: calling a person now beats acting, acting
// beats a warning for later, and a warning beats not acting.
func verdictRank(d sdk.Decision) int {
	switch {
	case d.Verdict == sdk.VerdictEscalate && d.Severity == sdk.SeverityWarning:
		return 1
	case d.Verdict == sdk.VerdictEscalate:
		return 3
	case d.Verdict == sdk.VerdictRemediate:
		return 2
	}
	return 0
}

// combine picks the most severe finding. When every finding is a false
// alarm, their reasons are joined, most severe first, and the decision is
// only as sure as its least sure part.
func combine(findings []finding) sdk.Decision {
	slices.SortStableFunc(findings, func(x, y finding) int {
		return cmp.Or(
			cmp.Compare(verdictRank(y.decision), verdictRank(x.decision)),
			cmp.Compare(y.severity, x.severity),
		)
	})
	best := findings[0].decision
	if best.Verdict != sdk.VerdictFalseAlarm {
		return best
	}
	reasons := make([]string, len(findings))
	for i, fd := range findings {
		reasons[i] = fd.decision.Reason
		best.Confidence = min(best.Confidence, fd.decision.Confidence)
	}
	best.Reason = strings.Join(reasons, "; ")
	return best
}
