package frontdoor

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	requests  *prometheus.CounterVec
	failovers prometheus.Counter
	charged   prometheus.Counter
	unknown   prometheus.Counter
}

func newMetrics(reg *prometheus.Registry, r *Router) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "frontdoor_requests_total",
			Help: "Generation requests by HTTP status (499: the client left)."}, []string{"code"}),
		failovers: prometheus.NewCounter(prometheus.CounterOpts{Name: "frontdoor_failovers_total",
			Help: "Requests moved to another member before their first byte."}),
		charged: prometheus.NewCounter(prometheus.CounterOpts{Name: "frontdoor_charged_base_units_total",
			Help: "Cost of runs members reported, in native base units."}),
		unknown: prometheus.NewCounter(prometheus.CounterOpts{Name: "frontdoor_unknown_outcomes_total",
			Help: "Runs a member may have recorded without the front door learning it; held at their worst case until the member's mark settles."}),
	}
	healthy := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "frontdoor_members_healthy",
		Help: "Members whose gateway answered its last readiness probe."}, func() float64 { return float64(r.Healthy()) })
	reg.MustRegister(m.requests, m.failovers, m.charged, m.unknown, healthy)
	return m
}
