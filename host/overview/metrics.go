package overview

import (
	hmetrics "github.com/hemostat/hemostat/host/metrics"
	"github.com/hemostat/hemostat/host/protocol"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics time incidents end to end, across the roles and whoever else
// publishes on the bus.
type metrics struct {
	detect      prometheus.Histogram
	remediate   prometheus.Histogram
	relapses    prometheus.Counter
	escalations *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		detect: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "hemostat_detect_seconds",
			Help:    "Time from what the monitor observed (the engine event, or the sample) to its health_alert.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}),
		remediate: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "hemostat_remediate_seconds",
			Help:    "Time from the first health_alert of an incident to the remediation_complete that succeeded for that container.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 16),
		}),
		relapses: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hemostat_remediation_relapses_total",
			Help: "Successful remediations of a container that was acted on or escalated again before the responder's backoff.reset_after passed.",
		}),
		escalations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hemostat_escalations_total",
			Help: "Escalations published on the bus, by source: analyzer, circuit_breaker or other.",
		}, []string{"source"}),
	}
	if reg != nil {
		m.detect = hmetrics.Register(reg, m.detect)
		m.remediate = hmetrics.Register(reg, m.remediate)
		m.relapses = hmetrics.Register(reg, m.relapses)
		m.escalations = hmetrics.Register(reg, m.escalations)
	}
	for _, s := range []string{protocol.EscalatedByAnalyzer, protocol.EscalatedByBreaker, "other"} {
		m.escalations.WithLabelValues(s)
	}
	return m
}
