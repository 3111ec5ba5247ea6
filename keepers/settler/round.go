package settler

import (
	"context"
	"errors"
	"fmt"

	"github.com/modelcommons/modelcommons/keepers/journal"
)

// Round runs one settlement round: conclude batches the chain settled,
// drive the batch in flight, or build and send the next one. idle is true
// when there was nothing more to do right now.
func (s *Settler) Round(ctx context.Context) (idle bool, err error) {
	s.mu.Lock()
	s.status.Rounds++
	s.mu.Unlock()
	defer func() {
		// The lag is the journal's to tell, whatever the chain did.
		if lerr := s.refreshLag(); err == nil {
			err = lerr
		}
	}()
	v, err := s.readView(ctx)
	if err != nil {
		return false, err
	}
	if !v.Node.Keeper.Equals(s.keeper) {
		return false, fmt.Errorf("%w: node %s's keeper key is %s, this keeper signs with %s (set_keeper_key, or fix keypair)", ErrNotNodeKeeper, s.nodeAddr, v.Node.Keeper, s.keeper)
	}
	last := v.Node.LastBatchSeq
	s.metrics.lastSeq.WithLabelValues("chain").Set(float64(last))
	readAt := s.cfg.Now()
	s.mu.Lock()
	s.status.ChainLastBatch, s.status.ChainReadAt = last, &readAt
	s.mu.Unlock()
	s.noteRunSeqs(v.Node.LastRunSeq)
	if s.cfg.LookupTable && !s.tables.loaded {
		if err := s.tables.load(ctx); err != nil {
			return false, err
		}
		s.noteTables()
	}
	if s.cfg.LookupTable {
		if err := s.tables.sweep(ctx, v.Slot); err != nil {
			return false, err
		}
		s.noteTables()
	}

	pending, err := s.journal.PendingBatches()
	if err != nil {
		return false, err
	}
	if !s.resumed {
		s.resumed = true
		for _, b := range pending {
			s.log.Info("resuming a batch left in flight", "batch", b.Seq, "state", b.State, "transactions", len(b.TxSignatures), "chain_last_batch", last)
		}
	}
	s.noteLag(pending, nil)
	for _, b := range pending {
		switch {
		case b.Seq <= last:
			if err := s.retireSettled(ctx, b); err != nil {
				return false, err
			}
		case b.Seq == last+1:
			s.notePending(&b)
			return false, s.drive(ctx, v, b)
		default:
			return false, fmt.Errorf("%w: journal batch %d is %s but the chain's last settled batch is %d", ErrDiverged, b.Seq, b.State, last)
		}
	}
	s.notePending(nil)
	if err := s.cleanPlans(); err != nil {
		return false, err
	}
	if err := s.noteLocalSettled(); err != nil {
		return false, err
	}
	return s.newBatch(ctx, v, last+1)
}

// drive takes the batch at the chain's next sequence number one step
// towards settled (or, once known not to have landed, failed).
func (s *Settler) drive(ctx context.Context, v *view, b journal.Batch) error {
	plan := s.store.plan(b.Seq)
	if plan != nil && plan.Root != b.Root {
		// Left from earlier contents of this sequence number, failed
		// before the state file was cleaned: every one of its
		// transactions was dead before the journal failed it.
		if err := s.store.deletePlans(func(p *Plan) bool { return p.Seq == b.Seq }); err != nil {
			return err
		}
		plan = nil
	}
	if plan == nil {
		if b.State == journal.BatchSent || len(b.TxSignatures) > 0 {
			return s.recoverWithoutPlan(ctx, b)
		}
		// Assigned, never signed: lay it out from its receipts.
		p, err := s.replan(ctx, v, b)
		var rb *rebuildError
		if errors.As(err, &rb) {
			return s.retireFailed(b, rb.reason)
		}
		if err != nil {
			return err
		}
		plan = p
	}
	return s.advance(ctx, v, b, plan)
}
