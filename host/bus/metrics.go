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

	streamErrors    *prometheus.CounterVec
	claimed         *prometheus.CounterVec
	groupsRecreated *prometheus.CounterVec
	acked           *prometheus.CounterVec
	givenUp         *prometheus.CounterVec
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
		streamErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hemostat_bus_stream_append_errors_total",
			Help: "Envelopes published but not appended to their stream (delivery = streams), by event type.",
		}, []string{"type"}),
		claimed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hemostat_bus_stream_claimed_total",
			Help: "Stream entries taken over from a consumer that left them pending longer than claim_min_idle, by event type.",
		}, []string{"type"}),
		groupsRecreated: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hemostat_bus_stream_groups_recreated_total",
			Help: "Consumer groups found deleted under hemostatd and created again, by event type.",
		}, []string{"type"}),
		givenUp: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hemostat_bus_stream_given_up_total",
			Help: "Stream entries delivered too many times without being acknowledged (a poison entry), acknowledged and skipped, by event type.",
		}, []string{"type"}),
		acked: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hemostat_bus_stream_acked_total",
			Help: "Stream entries acknowledged once their work was done (or they were skipped as invalid), by event type.",
		}, []string{"type"}),
	}
	if reg != nil {
		m.published = hmetrics.Register(reg, m.published)
		m.received = hmetrics.Register(reg, m.received)
		m.invalid = hmetrics.Register(reg, m.invalid)
		m.lost = hmetrics.Register(reg, m.lost)
		m.batchSize = hmetrics.Register(reg, m.batchSize)
		m.reconnects = hmetrics.Register(reg, m.reconnects)
		m.replayed = hmetrics.Register(reg, m.replayed)
		m.streamErrors = hmetrics.Register(reg, m.streamErrors)
		m.claimed = hmetrics.Register(reg, m.claimed)
		m.groupsRecreated = hmetrics.Register(reg, m.groupsRecreated)
		m.acked = hmetrics.Register(reg, m.acked)
		m.givenUp = hmetrics.Register(reg, m.givenUp)
	}
	m.zero()
	return m
}

// invalidReasons are every label reasonLabel gives.
var invalidReasons = []string{"too_large", "malformed_json", "wrong_type", "missing_field", "invalid_data", "other"}

// zero creates the series of every protocol event type at 0, so that a
// rate() or an absent() over them works before the first event: a family
// that appears only with its first increment reads as "no data", not 0.
func (m *metrics) zero() {
	for _, t := range protocol.Types {
		for _, v := range []*prometheus.CounterVec{m.published, m.received, m.lost, m.streamErrors, m.claimed, m.groupsRecreated, m.acked, m.givenUp} {
			v.WithLabelValues(t)
		}
		for _, r := range invalidReasons {
			m.invalid.WithLabelValues(t, r)
		}
	}
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
