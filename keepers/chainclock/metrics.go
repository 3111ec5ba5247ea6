package chainclock

import "github.com/prometheus/client_golang/prometheus"

// OffsetGauge is keeper_chain_clock_offset_seconds: the chain's clock
// (Clock sysvar) minus this host's clock, as c estimates it, read at each
// scrape. Register it once.
func (c *Clock) OffsetGauge() prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "keeper_chain_clock_offset_seconds", Help: "The chain's clock (Clock sysvar) minus this host's clock, as the keeper estimates it.",
	}, func() float64 { return c.Status().OffsetSeconds })
}
