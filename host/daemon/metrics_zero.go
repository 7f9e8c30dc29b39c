package daemon

import (
	"github.com/hemostat/hemostat/host/config"
	"github.com/hemostat/hemostat/sdk"
)

// Label values the role counters are created with at 0 before the first
// event: a series that appears only with its first increment reads as "no
// data" in a dashboard, and rate() or increase() over it starts one scrape
// late.
var (
	sampleKinds = []string{
		"resource", sdk.EventDie, sdk.EventOOM, sdk.EventHealthStatus, sdk.EventStart, sdk.EventRestart,
		sdk.EventDestroy, sdk.EventPause, sdk.EventUnpause, sdk.EventStop,
	}
	decisionVerdicts = []string{sdk.VerdictRemediate, sdk.VerdictFalseAlarm, sdk.VerdictEscalate}
	resultStatuses   = []string{
		sdk.StatusSuccess, sdk.StatusFailed, sdk.StatusNotApplicable, sdk.StatusDryRun,
		sdk.StatusRejected, sdk.StatusSkipped, sdk.StatusDeferred,
	}
	notifyOutcomes = []string{"delivered", "failed", "grouped", "summarized"}
)

// zero creates the known series of cfg at 0: the sample kinds, the
// configured analyzers' verdicts, the allowlisted actions' statuses, the
// configured alert plugins' outcomes and every notification kind.
func (m *metrics) zero(cfg *config.Config) {
	for _, k := range sampleKinds {
		m.samples.WithLabelValues(k)
	}
	if cfg.Analyzer.Enabled {
		for _, p := range cfg.Analyzer.Plugins {
			if !p.Enabled {
				continue
			}
			for _, v := range decisionVerdicts {
				m.decisions.WithLabelValues(v, p.Name)
			}
		}
	}
	m.agreement.WithLabelValues("true")
	m.agreement.WithLabelValues("false")
	if cfg.Responder.Enabled {
		for _, a := range cfg.Responder.Actions {
			for _, s := range resultStatuses {
				m.remediations.WithLabelValues(a, s)
			}
		}
	}
	if cfg.Alert.Enabled {
		for _, p := range cfg.Alert.Plugins {
			if !p.Enabled {
				continue
			}
			for _, o := range notifyOutcomes {
				m.notifications.WithLabelValues(p.Name, o)
			}
		}
	}
	for _, k := range sdk.Kinds {
		m.silencedTotal.WithLabelValues(k)
	}
}
