package chainclock

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// RegisterMetrics registers keeper_chain_clock_offset_seconds with reg:
// the chain's clock (Clock sysvar) minus this host's clock, as c estimates
// it, read at each scrape.
func (c *Clock) RegisterMetrics(reg prometheus.Registerer) error {
	g := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "keeper_chain_clock_offset_seconds", Help: "The chain's clock (Clock sysvar) minus this host's clock, as the keeper estimates it.",
	}, func() float64 { return c.Status().OffsetSeconds })
	if err := reg.Register(g); err != nil {
		return fmt.Errorf("chain clock metrics: %w", err)
	}
	return nil
}
