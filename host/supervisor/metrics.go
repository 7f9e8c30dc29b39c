package supervisor

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the supervisor's Prometheus series, labelled by role and
// name.
type metrics struct {
	restarts *prometheus.CounterVec
	up       *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		restarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hemostat_plugin_restarts_total",
			Help: "Times the supervisor relaunched a plugin after it crashed or hung.",
		}, []string{"role", "name"}),
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hemostat_plugin_up",
			Help: "1 while a plugin's process is running and answering, else 0.",
		}, []string{"role", "name"}),
	}
	if reg != nil {
		m.restarts = register(reg, m.restarts)
		m.up = register(reg, m.up)
	}
	return m
}

// register registers c, or returns the collector already registered under
// its name, so that a second supervisor on the same registry (a reload, a
// test) shares the series instead of panicking.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	err := reg.Register(c)
	var dup prometheus.AlreadyRegisteredError
	if errors.As(err, &dup) {
		if existing, ok := dup.ExistingCollector.(C); ok {
			return existing
		}
	}
	return c
}
