package bus

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	hmetrics "github.com/hemostat/hemostat/host/metrics"
	"github.com/hemostat/hemostat/host/protocol"
)

// metrics are the bus's Prometheus collectors. They exist even without a
// Registerer, so the code that counts never checks.
type metrics struct {
	published  *prometheus.CounterVec
	received   *prometheus.CounterVec
	invalid    *prometheus.CounterVec
	lost       *prometheus.CounterVec
	batchSize  prometheus.Histogram
	reconnects prometheus.Counter
	replayed   prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		published: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hemostat_bus_published_total",
			Help: "Envelopes published, by event type.",
		}, []string{"type"}),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hemostat_bus_received_total",
			Help: "Messages received on subscribed channels, valid or not, by event type.",
		}, []string{"type"}),
		invalid: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hemostat_bus_invalid_messages_total",
			Help: "Received messages skipped because they are not valid envelopes, by event type and reason.",
		}, []string{"type", "reason"}),
		lost: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hemostat_bus_lost_total",
			Help: "Envelopes Redis dropped from the subscription (output-buffer limit, outage) that were already gone from the event log when it came back, by event type.",
		}, []string{"type"}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "hemostat_bus_eventlog_batch_size",
			Help:    "Envelopes appended to an event log by one script call.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 10),
		}),
		reconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hemostat_bus_reconnects_total",
			Help: "Subscriptions re-established after the connection to Redis was lost.",
		}),
		replayed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hemostat_bus_replayed_total",
			Help: "Envelopes published while the subscription was down, handed on from the event logs after it came back.",
		}),
	}
	if reg != nil {
		m.published = hmetrics.Register(reg, m.published)
		m.received = hmetrics.Register(reg, m.received)
		m.invalid = hmetrics.Register(reg, m.invalid)
		m.lost = hmetrics.Register(reg, m.lost)
		m.batchSize = hmetrics.Register(reg, m.batchSize)
		m.reconnects = hmetrics.Register(reg, m.reconnects)
		m.replayed = hmetrics.Register(reg, m.replayed)
	}
	return m
}

// reasonLabel is the invalid-message counter's label for a decode error.
func reasonLabel(err error) string {
	switch {
	case errors.Is(err, protocol.ErrTooLarge):
		return "too_large"
	case errors.Is(err, protocol.ErrMalformed):
		return "malformed_json"
	case errors.Is(err, protocol.ErrWrongType):
		return "wrong_type"
	case errors.Is(err, protocol.ErrMissing):
		return "missing_field"
	case errors.Is(err, protocol.ErrInvalidData):
		return "invalid_data"
	default:
		return "other"
	}
}
