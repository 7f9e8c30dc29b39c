package daemon

import (
	"strconv"
	"time"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/host/role"
	"github.com/hemostat/hemostat/host/silence"
	"github.com/hemostat/hemostat/sdk"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the role runners' counters; the bus and the supervisor
// register their own.
type metrics struct {
	samples       *prometheus.CounterVec
	decisions     *prometheus.CounterVec
	decisionTime  prometheus.Histogram
	duplicates    prometheus.Counter
	agreement     *prometheus.CounterVec
	remediations  *prometheus.CounterVec
	notifications *prometheus.CounterVec
	silencedTotal *prometheus.CounterVec
	foreign       prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		samples: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hemostat_monitor_samples_total", Help: "Samples received from monitor plugins, by kind (resource or the lifecycle event).",
		}, []string{"kind"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hemostat_analyzer_decisions_total", Help: "Decisions reached by the analyzer chain, by verdict and analyzer.",
		}, []string{"verdict", "analyzer"}),
		decisionTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "hemostat_analyzer_decision_seconds", Help: "Time from a health_alert's receipt to its decision.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hemostat_analyzer_duplicate_alerts_total", Help: "health_alerts skipped because the same envelope, byte for byte, was among the last 4096 judged.",
		}),
		agreement: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hemostat_llm_agreement_total",
			Help: "Decisions that carried a shadow judgement (an analyzer in shadow mode, such as llm), by whether it agreed with the decision.",
		}, []string{"agree"}),
		remediations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hemostat_responder_results_total", Help: "Remediation results, by action and status (success, failed, rejected, deferred, skipped, dry_run, not_applicable).",
		}, []string{"action", "status"}),
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hemostat_alert_notifications_total", Help: "Notifications routed to alert plugins, by plugin and outcome: delivered, failed, grouped (counted into a later message), summarized (into a storm summary).",
		}, []string{"plugin", "outcome"}),
		silencedTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hemostat_alert_silenced_total", Help: "Notifications muted by a silence, by kind.",
		}, []string{"kind"}),
		foreign: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hemostat_foreign_actions_total",
			Help: "Restarts, stops and kills of a container by another engine client (another healer) around a responder's own action on it.",
		}),
	}
	reg.MustRegister(m.samples, m.decisions, m.decisionTime, m.duplicates, m.agreement, m.remediations, m.notifications, m.silencedTotal, m.foreign)
	return m
}

func (m *metrics) sample(s sdk.Sample) {
	kind := s.Event
	if kind == "" {
		kind = "resource"
	}
	m.samples.WithLabelValues(kind).Inc()
}

func (m *metrics) decision(_ string, d sdk.Decision, took time.Duration) {
	m.decisions.WithLabelValues(d.Verdict, d.Analyzer).Inc()
	m.decisionTime.Observe(took.Seconds())
	if d.Shadow != nil {
		m.agreement.WithLabelValues(strconv.FormatBool(role.ShadowAgrees(*d.Shadow, d))).Inc()
	}
}

func (m *metrics) duplicate(string) { m.duplicates.Inc() }

func (m *metrics) result(_ string, r protocol.Result) {
	m.remediations.WithLabelValues(r.Action, r.Status).Inc()
}

func (m *metrics) notify(plugin string, _ sdk.Notification, err error) {
	outcome := "delivered"
	if err != nil {
		outcome = "failed"
	}
	m.notifications.WithLabelValues(plugin, outcome).Inc()
}

func (m *metrics) held(plugin, how string) { m.notifications.WithLabelValues(plugin, how).Inc() }

func (m *metrics) silenced(n sdk.Notification, _ silence.Silence) {
	m.silencedTotal.WithLabelValues(n.Kind).Inc()
}
