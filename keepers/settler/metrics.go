package settler

import "github.com/prometheus/client_golang/prometheus"

// metrics are the settler's Prometheus series. Labels are bounded: batch
// outcomes (2), failure kinds (the verdicts plus rpc and internal),
// write-off reasons (8), send kinds (3), where (2).
type metrics struct {
	batches        *prometheus.CounterVec // keeper_settlement_batches_total{outcome}
	runs           prometheus.Counter     // keeper_runs_settled_total
	entries        prometheus.Counter     // keeper_settlement_entries_total
	charged        prometheus.Counter     // keeper_settlement_charged_base_units_total
	shortfall      prometheus.Counter     // keeper_settlement_shortfall_base_units_total
	shortEntries   prometheus.Counter     // keeper_settlement_shortfall_entries_total
	failures       *prometheus.CounterVec // keeper_settlement_failures_total{kind}
	writtenOff     *prometheus.CounterVec // keeper_settlement_written_off_runs_total{reason}
	sends          *prometheus.CounterVec // keeper_settlement_transactions_sent_total{kind}
	lastSeq        *prometheus.GaugeVec   // keeper_settlement_last_batch_seq{where}
	runSeq         *prometheus.GaugeVec   // keeper_settlement_last_run_seq{where}
	tableAddresses prometheus.Counter     // keeper_settlement_lookup_table_addresses_total
	tablesRetired  prometheus.Counter     // keeper_settlement_lookup_tables_retired_total
	tablesClosed   prometheus.Counter     // keeper_settlement_lookup_tables_closed_total
	lag            prometheus.Gauge       // keeper_settlement_lag_seconds
}

func newMetrics(reg prometheus.Registerer, lag prometheus.Gauge) *metrics {
	m := &metrics{
		batches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "keeper_settlement_batches_total", Help: "Settlement batches concluded: settled on chain, or failed (known not to have landed; their runs were rebatched).",
		}, []string{"outcome"}),
		runs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "keeper_runs_settled_total", Help: "Runs whose batch settled on chain.",
		}),
		entries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "keeper_settlement_entries_total", Help: "Settle entries in settled batches.",
		}),
		charged: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "keeper_settlement_charged_base_units_total", Help: "Native base units debited from escrows by settled batches.",
		}),
		shortfall: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "keeper_settlement_shortfall_base_units_total", Help: "Cost of settled runs that escrows could not pay (balance or spend limit exhausted).",
		}),
		shortEntries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "keeper_settlement_shortfall_entries_total", Help: "Settle entries an escrow could not pay in full.",
		}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "keeper_settlement_failures_total", Help: "Settlement rounds that failed, by kind (rpc, transient, permanent, expired, node, gap, internal).",
		}, []string{"kind"}),
		writtenOff: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "keeper_settlement_written_off_runs_total", Help: "Runs that can never be paid, written off in the journal, by reason.",
		}, []string{"reason"}),
		sends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "keeper_settlement_transactions_sent_total", Help: "Settle transactions put on the wire: first (new signature), rebroadcast (same bytes), resend (same batch, new blockhash).",
		}, []string{"kind"}),
		lastSeq: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "keeper_settlement_last_batch_seq", Help: "Last settled batch sequence number, on chain and in the journal.",
		}, []string{"where"}),
		runSeq: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "keeper_settlement_last_run_seq", Help: "Run numbers: the node's last settled run on chain (where=chain), the highest the journal assigned (where=journal).",
		}, []string{"where"}),
		tableAddresses: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "keeper_settlement_lookup_table_addresses_total", Help: "Addresses added to the node's lookup tables.",
		}),
		tablesRetired: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "keeper_settlement_lookup_tables_retired_total", Help: "Lookup tables deactivated to stay within the keeper's table limit.",
		}),
		tablesClosed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "keeper_settlement_lookup_tables_closed_total", Help: "Retired lookup tables closed, their rent returned to the keeper.",
		}),
		lag: lag,
	}
	cs := []prometheus.Collector{m.batches, m.runs, m.entries, m.charged, m.shortfall, m.shortEntries, m.failures, m.writtenOff, m.sends, m.lastSeq, m.runSeq, m.tableAddresses, m.tablesRetired, m.tablesClosed}
	if reg != nil {
		reg.MustRegister(cs...)
	}
	if m.lag == nil {
		m.lag = RegisterLag(reg)
	}
	return m
}

// RegisterLag declares keeper_settlement_lag_seconds, the settler's gauge
// of the age of the oldest recorded run not yet settled, and registers it
// with reg (if not nil). A daemon that shows the series before (or
// without) a settler registers it once here and passes it as Config.Lag;
// it reads 0 until a settler sets it.
func RegisterLag(reg prometheus.Registerer) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "keeper_settlement_lag_seconds", Help: "Age of the oldest recorded run not yet settled (0 until the settler runs).",
	})
	if reg != nil {
		reg.MustRegister(g)
	}
	return g
}
