package journal

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// RegisterMetrics registers the journal's series with reg. They are read
// from Stats and UnbatchedCount at each scrape, so the commit path keeps
// no metric state of its own.
func (j *Journal) RegisterMetrics(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "keeper_journal_records_total", Help: "Receipts made durable."},
			func() float64 { return float64(j.Stats().Records) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "keeper_journal_commits_total", Help: "Group commits (one sync each)."},
			func() float64 { return float64(j.Stats().Commits) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "keeper_journal_commit_seconds_total", Help: "Time spent in group commits (divide by commits for the mean)."},
			func() float64 { return j.Stats().CommitTime.Seconds() }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "keeper_journal_file_bytes", Help: "Size of the journal file."},
			func() float64 { return float64(j.Stats().FileBytes) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "keeper_journal_unbatched_receipts", Help: "Recorded receipts in no settlement batch."},
			func() float64 { n, _ := j.UnbatchedCount(); return float64(n) }),
	} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("journal metrics: %w", err)
		}
	}
	return nil
}
