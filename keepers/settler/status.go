package settler

import (
	"bytes"
	"encoding/binary"
	"errors"
	"time"

	"github.com/modelcommons/modelcommons/keepers/journal"
	"github.com/modelcommons/modelcommons/keepers/receipts"
)

// LocalLastSettled is the highest sequence number the journal marks settled.
func LocalLastSettled(j *journal.Journal) (uint64, error) {
	b, ok, err := j.LastBatch()
	if err != nil || !ok {
		return 0, err
	}
	for seq := b.Seq; seq > 0; seq-- {
		b, err := j.Batch(seq)
		if errors.Is(err, journal.ErrNotFound) {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		if b.State == journal.BatchSettled {
			return seq, nil
		}
	}
	return 0, nil
}

func (s *Settler) noteLocalSettled() error {
	seq, err := LocalLastSettled(s.journal)
	if err != nil {
		return err
	}
	s.metrics.lastSeq.WithLabelValues("journal").Set(float64(seq))
	s.mu.Lock()
	s.status.LocalLastSettled = seq
	s.mu.Unlock()
	return nil
}

func (s *Settler) notePending(b *journal.Batch) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b == nil {
		s.status.Pending = nil
		return
	}
	s.status.Pending = &Pending{Seq: b.Seq, State: string(b.State), Runs: b.Runs, Sends: len(b.TxSignatures)}
}

func (s *Settler) noteTables() {
	var live, retired []string
	for _, r := range s.tables.recs {
		if r.retired() {
			retired = append(retired, r.Address.String())
		} else {
			live = append(live, r.Address.String())
		}
	}
	s.mu.Lock()
	s.status.LookupTables, s.status.RetiredLookupTables = live, retired
	s.mu.Unlock()
}

// noteLag sets the settlement lag from the oldest receipt in the pending
// batches or the unbatched runs.
func (s *Settler) noteLag(pending []journal.Batch, runs []run) {
	var oldest receipts.RunID
	have := false
	consider := func(id receipts.RunID) {
		if !have || bytes.Compare(id[:], oldest[:]) < 0 {
			oldest, have = id, true
		}
	}
	for _, b := range pending {
		for _, id := range b.RunIDs {
			consider(id)
		}
	}
	for _, r := range runs {
		consider(r.ID)
	}
	if have {
		s.setLag(lagOf(oldest, s.cfg.Now()))
	}
}

// refreshLag recomputes the settlement lag from the journal.
func (s *Settler) refreshLag() error {
	lag, err := JournalLag(s.journal, s.cfg.Now())
	if err != nil {
		return err
	}
	s.setLag(lag)
	return nil
}

func (s *Settler) setLag(d time.Duration) {
	sec := lagSeconds(d)
	s.metrics.lag.Set(sec)
	s.mu.Lock()
	s.status.LagSeconds = sec
	s.mu.Unlock()
}

// lagSeconds is a lag as status and the gauge show it: a clock that
// stepped back reads as no lag rather than a negative one.
func lagSeconds(d time.Duration) float64 { return max(d.Seconds(), 0) }

// JournalLag is the age of the oldest receipt of j not yet settled (0 when none).
func JournalLag(j *journal.Journal, now time.Time) (time.Duration, error) {
	pending, err := j.PendingBatches()
	if err != nil {
		return 0, err
	}
	first, err := j.UnbatchedRuns(1)
	if err != nil {
		return 0, err
	}
	ids := pendingIDs(pending)
	for _, r := range first {
		ids = append(ids, r.ID)
	}
	var oldest receipts.RunID
	have := false
	for _, id := range ids {
		if !have || bytes.Compare(id[:], oldest[:]) < 0 {
			oldest, have = id, true
		}
	}
	if !have {
		return 0, nil
	}
	return max(lagOf(oldest, now), 0), nil
}

func pendingIDs(bs []journal.Batch) []receipts.RunID {
	var out []receipts.RunID
	for _, b := range bs {
		out = append(out, b.RunIDs...)
	}
	return out
}

// lagOf is the age of a run id's issue time.
func lagOf(id receipts.RunID, now time.Time) time.Duration {
	ns := int64(binary.BigEndian.Uint64(id[:8]))
	return now.Sub(time.Unix(0, ns))
}
