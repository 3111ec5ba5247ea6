package gateway

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/modelcommons/modelcommons/keepers/workers"
)

// Metrics are the gateway's Prometheus series. Labels are bounded: the
// endpoint (4 values), status code (the few the gateway sends), model (the
// configured names plus "mixture"), worker (configured names).
type Metrics struct {
	Requests     *prometheus.CounterVec   // keeper_requests_total{endpoint,code}
	Duration     *prometheus.HistogramVec // keeper_request_duration_seconds{endpoint,stream}
	Tokens       *prometheus.CounterVec   // keeper_tokens_total{model,direction}
	Runs         *prometheus.CounterVec   // keeper_runs_recorded_total{endpoint,estimated}
	RunFailures  *prometheus.CounterVec   // keeper_run_failures_total{reason}
	Retries      prometheus.Counter       // keeper_worker_retries_total
	InFlight     prometheus.Gauge         // keeper_inflight_requests
	ChargedValue prometheus.Counter       // keeper_charged_value_base_units_total
	// RateLimited counts requests refused by a per-key budget
	// (Config.Limits), by which: limit rpm or tpm, scope key or model.
	// Never labelled by key.
	RateLimited *prometheus.CounterVec // keeper_ratelimit_rejected_total{limit,scope}
	// PartialRuns counts streams whose client went away after the first
	// chunk, charged for what was generated until then (also in Runs).
	PartialRuns prometheus.Counter // keeper_runs_partial_total
	// UsageClamped counts runs whose worker reported more output tokens
	// than the request allowed.
	UsageClamped prometheus.Counter // keeper_usage_clamped_total
}

// NewMetrics creates the series and registers them (and the pool and
// unsettled-value collectors) with reg.
func NewMetrics(reg prometheus.Registerer, pool *workers.Pool, unsettled func() uint64) *Metrics {
	m := &Metrics{
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "keeper_requests_total", Help: "API requests by endpoint and HTTP status.",
		}, []string{"endpoint", "code"}),
		Duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "keeper_request_duration_seconds", Help: "Time from request to the last byte of the response.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120},
		}, []string{"endpoint", "stream"}),
		Tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "keeper_tokens_total", Help: "Tokens of recorded (chargeable) runs by model and direction (input, output).",
		}, []string{"model", "direction"}),
		Runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "keeper_runs_recorded_total", Help: "Runs journaled as chargeable receipts.",
		}, []string{"endpoint", "estimated"}),
		RunFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "keeper_run_failures_total", Help: "Runs that failed after admission and were not charged, by reason.",
		}, []string{"reason"}),
		Retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "keeper_worker_retries_total", Help: "Requests retried on another worker before the first byte reached the client.",
		}),
		InFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "keeper_inflight_requests", Help: "Generation requests being served.",
		}),
		ChargedValue: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "keeper_charged_value_base_units_total", Help: "Cost of journaled runs, native base units.",
		}),
		RateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "keeper_ratelimit_rejected_total", Help: "Requests refused by a per-key rate limit, by limit (rpm, tpm) and scope (key, model).",
		}, []string{"limit", "scope"}),
		PartialRuns: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "keeper_runs_partial_total", Help: "Streamed runs whose client went away mid-stream, charged for the tokens generated until then.",
		}),
		UsageClamped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "keeper_usage_clamped_total", Help: "Runs whose worker reported more output tokens than the request allowed; charged at the request's limit.",
		}),
	}
	for _, l := range []string{"rpm", "tpm"} {
		for _, s := range []string{"key", "model"} {
			m.RateLimited.WithLabelValues(l, s)
		}
	}
	reg.MustRegister(m.Requests, m.Duration, m.Tokens, m.Runs, m.RunFailures, m.Retries, m.InFlight, m.ChargedValue, m.RateLimited, m.PartialRuns, m.UsageClamped)
	if unsettled != nil {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "keeper_unsettled_value_base_units", Help: "Cost of journaled runs not yet settled, native base units.",
		}, func() float64 { return float64(unsettled()) }))
	}
	if pool != nil {
		reg.MustRegister(&poolCollector{pool: pool})
	}
	return m
}

var (
	workerUpDesc          = prometheus.NewDesc("keeper_worker_up", "1 if the worker's last health checks passed.", []string{"worker", "kind"}, nil)
	workerOutstandingDesc = prometheus.NewDesc("keeper_worker_outstanding_requests", "Requests in flight on the worker.", []string{"worker"}, nil)
	workerCircuitDesc     = prometheus.NewDesc("keeper_worker_circuit_open", "1 if the worker's circuit breaker is open or half-open.", []string{"worker"}, nil)
)

type poolCollector struct{ pool *workers.Pool }

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- workerUpDesc
	ch <- workerOutstandingDesc
	ch <- workerCircuitDesc
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.pool.Snapshot() {
		up, open := 0.0, 0.0
		if s.Healthy {
			up = 1
		}
		if s.Circuit != "closed" {
			open = 1
		}
		ch <- prometheus.MustNewConstMetric(workerUpDesc, prometheus.GaugeValue, up, s.Name, string(s.Kind))
		ch <- prometheus.MustNewConstMetric(workerOutstandingDesc, prometheus.GaugeValue, float64(s.Outstanding), s.Name)
		ch <- prometheus.MustNewConstMetric(workerCircuitDesc, prometheus.GaugeValue, open, s.Name)
	}
}
