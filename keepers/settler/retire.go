package settler

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/keepers/journal"
)

// retireSettled settles the journal batch b, whose sequence number the
// chain has settled: with one of its own transactions, or — when none of
// them is found — by the BatchSettled event at that sequence, which must
// carry b's Merkle root. A sequence settled with other contents (another
// process with this keeper key) returns b's receipts to be rebatched.
func (s *Settler) retireSettled(ctx context.Context, b journal.Batch) error {
	plan := s.store.plan(b.Seq)
	if plan != nil && plan.Root != b.Root {
		plan = nil
	}
	sigs := sentSignatures(b, plan)
	var sig solana.Signature
	var slot uint64
	found := false
	if len(sigs) > 0 {
		sts, err := s.statuses(ctx, sigs)
		if err != nil {
			return err
		}
		for _, st := range sts {
			if st.Landed && st.Err == nil {
				sig, slot, found = st.Sig, st.Slot, true
			}
		}
	}
	if !found {
		ev, ok, err := s.findBatchEvent(ctx, b.Seq)
		if err != nil {
			return err
		}
		switch {
		case ok && ev.Event.ReceiptsRoot == b.Root:
			sig, slot = ev.Sig, ev.Slot
		case ok || len(sigs) == 0:
			// Settled on chain, but not with these receipts: not ours.
			s.log.Error("the chain settled this sequence number with other receipts (another process with this keeper key?); rebatching",
				"batch", b.Seq, "runs", b.Runs)
			if err := s.journal.MarkFailed(b.Seq, "sequence number settled on chain by another batch"); err != nil {
				return err
			}
			s.metrics.batches.WithLabelValues("failed").Inc()
			return s.store.deletePlans(func(p *Plan) bool { return p.Seq == b.Seq })
		default:
			s.log.Warn("batch settled on chain; none of its transactions is in the node's history any more, assuming its own", "batch", b.Seq)
		}
	}
	escrows, err := s.batchEscrows(b, plan)
	if err != nil {
		return err
	}
	if s.cfg.BeforeSettled != nil {
		if err := s.cfg.BeforeSettled(ctx, escrows); err != nil {
			return fmt.Errorf("batch %d landed; refreshing its escrows before marking it settled: %w", b.Seq, err)
		}
	}
	if err := s.checkpoint(PointLanded, b.Seq); err != nil {
		return err
	}
	if err := s.journal.MarkSettled(b.Seq, sig.String(), slot); err != nil {
		return fmt.Errorf("mark batch %d settled: %w", b.Seq, err)
	}
	s.metrics.batches.WithLabelValues("settled").Inc()
	s.metrics.runs.Add(float64(b.Runs))
	s.metrics.lastSeq.WithLabelValues("journal").Set(float64(b.Seq))
	// The lag is published with the settled batch, not at the round's end:
	// a status read in between would otherwise pair this batch with the lag
	// of the runs it just settled.
	lag, lagErr := JournalLag(s.journal, s.cfg.Now())
	if lagErr == nil {
		s.metrics.lag.Set(lagSeconds(lag))
	}
	s.mu.Lock()
	if lagErr == nil {
		s.status.LagSeconds = lagSeconds(lag)
	}
	s.status.LocalLastSettled = max(s.status.LocalLastSettled, b.Seq)
	s.status.ChainLastBatch = max(s.status.ChainLastBatch, b.Seq)
	if s.status.Pending != nil && s.status.Pending.Seq == b.Seq {
		s.status.Pending = nil
	}
	s.mu.Unlock()
	attrs := []any{"batch", b.Seq, "runs", b.Runs, "signature", sig}
	if !sig.IsZero() {
		if evs, err := s.batchEventsIn(ctx, sig); err == nil {
			for _, ev := range evs {
				if ev.BatchSeq == b.Seq {
					s.metrics.entries.Add(float64(ev.Entries))
					s.metrics.charged.Add(float64(ev.Charged))
					s.metrics.shortfall.Add(float64(ev.Shortfall))
					s.metrics.shortEntries.Add(float64(len(ev.Shortfalls)))
					attrs = append(attrs, "entries", ev.Entries, "charged_base_units", ev.Charged, "shortfall_base_units", ev.Shortfall)
					if ev.Shortfall > 0 {
						s.log.Warn("escrows could not pay part of a batch", "batch", b.Seq, "shortfall_base_units", ev.Shortfall, "entries_short", len(ev.Shortfalls))
					}
				}
			}
		}
	}
	s.log.Info("batch settled", attrs...)
	return s.store.deletePlans(func(p *Plan) bool { return p.Seq == b.Seq })
}

// sentSignatures is every signature sent for b, from the journal and the plan.
func sentSignatures(b journal.Batch, plan *Plan) []solana.Signature {
	var out []solana.Signature
	if plan != nil {
		out = plan.Signatures()
	}
	for _, s := range b.TxSignatures {
		if sig, err := solana.SignatureFromBase58(s); err == nil && !slices.Contains(out, sig) {
			out = append(out, sig)
		}
	}
	return out
}

// batchEscrows are the escrows to refresh once b settles: the receipts'
// escrows and those they were charged at.
func (s *Settler) batchEscrows(b journal.Batch, plan *Plan) ([]solana.PublicKey, error) {
	set := map[solana.PublicKey]bool{}
	if plan != nil {
		for _, e := range plan.Escrows {
			set[e] = true
		}
	} else {
		for _, id := range b.RunIDs {
			e, err := s.journal.Get(id)
			if err != nil {
				return nil, err
			}
			set[solana.PublicKeyFromBytes(e.Signed.Receipt.Escrow[:])] = true
		}
	}
	out := make([]solana.PublicKey, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i][:], out[j][:]) < 0 })
	return out, nil
}

// retireFailed marks b failed (known not to have landed): its receipts
// return to be batched again under the same sequence number.
func (s *Settler) retireFailed(b journal.Batch, reason string) error {
	s.log.Warn("batch cannot land as built; its runs are rebatched under the same sequence number", "batch", b.Seq, "reason", reason)
	if err := s.journal.MarkFailed(b.Seq, reason); err != nil {
		return fmt.Errorf("mark batch %d failed: %w", b.Seq, err)
	}
	s.metrics.batches.WithLabelValues("failed").Inc()
	return s.store.deletePlans(func(p *Plan) bool { return p.Seq == b.Seq })
}

// cleanPlans drops plans whose batch is no longer pending with the same root.
func (s *Settler) cleanPlans() error {
	var drop []uint64
	for _, p := range s.store.plans() {
		b, err := s.journal.Batch(p.Seq)
		if err != nil && !errors.Is(err, journal.ErrNotFound) {
			return err
		}
		if err != nil || (b.State != journal.BatchAssigned && b.State != journal.BatchSent) || b.Root != p.Root {
			drop = append(drop, p.Seq)
		}
	}
	if len(drop) == 0 {
		return nil
	}
	return s.store.deletePlans(func(p *Plan) bool { return slices.Contains(drop, p.Seq) })
}
