package bus

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hemostat/hemostat/host/protocol"
)

// metrics are the bus's Prometheus collectors. They exist even without a
// Registerer, so the code that counts never checks.
type metrics struct {
	published  *prometheus.CounterVec
	received   *prometheus.CounterVec
	invalid    *prometheus.CounterVec
	dropped    *prometheus.CounterVec
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
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hemostat_bus_dropped_messages_total",
			Help: "Valid messages dropped because the handlers of their type fell too far behind.",
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
		m.published = register(reg, m.published)
		m.received = register(reg, m.received)
		m.invalid = register(reg, m.invalid)
		m.dropped = register(reg, m.dropped)
		m.batchSize = register(reg, m.batchSize)
		m.reconnects = register(reg, m.reconnects)
		m.replayed = register(reg, m.replayed)
	}
	return m
}

// register registers c, or returns the collector already registered under
// its name, so that several buses can share one registry.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	err := reg.Register(c)
	var already prometheus.AlreadyRegisteredError
	if errors.As(err, &already) {
		if existing, ok := already.ExistingCollector.(C); ok {
			return existing
		}
	}
	return c
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
