package supervisor

import (
	hmetrics "github.com/hemostat/hemostat/host/metrics"
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
		m.restarts = hmetrics.Register(reg, m.restarts)
		m.up = hmetrics.Register(reg, m.up)
	}
	return m
}
