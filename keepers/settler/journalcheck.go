package settler

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/keepers/journal"
	"github.com/modelcommons/modelcommons/keepers/receipts"
)

// ErrJournalBehind: the journal is older than the chain's record of the
// node (restored from an old copy, truncated, or new), so it holds runs
// that can never settle and would number new runs the chain has settled.
var ErrJournalBehind = errors.New("journal is behind the chain")

// JournalBehindError says how far behind, for the one line an operator sees.
type JournalBehindError struct {
	Journal string
	Node    solana.PublicKey
	// ChainRunSeq is the node's last_run_seq, JournalRunSeq the highest run
	// number the journal assigned; ChainBatchSeq the node's last_batch_seq.
	ChainRunSeq, JournalRunSeq, ChainBatchSeq uint64
	// Stale counts unsettled receipts numbered at or below ChainRunSeq and
	// in no batch the chain may have settled.
	Stale int
	// StateFile and StateHistory are set when the journal is empty or new
	// and the settler's state file records earlier settlement (the second
	// witness, for when the chain's marks do not show it yet).
	StateFile, StateHistory string
}

func (e *JournalBehindError) Error() string {
	if e.StateFile != "" {
		return fmt.Sprintf("journal %s is empty or new, but the settler state file %s records %s: the journal was lost or replaced; "+
			"restore the latest copy of the journal, or start with --accept-journal-loss to go on without its runs", e.Journal, e.StateFile, e.StateHistory)
	}
	return fmt.Sprintf("journal %s is behind node %s: the chain settled runs up to #%d (batch #%d), the journal numbered runs up to #%d "+
		"and holds %d unsettled runs at or below #%d; restore the latest copy of the journal, or start with --accept-journal-loss "+
		"to write those runs off and number new runs above #%d",
		e.Journal, e.Node, e.ChainRunSeq, e.ChainBatchSeq, e.JournalRunSeq, e.Stale, e.ChainRunSeq, e.ChainRunSeq)
}

func (e *JournalBehindError) Unwrap() error { return ErrJournalBehind }

// CheckJournal compares the journal with the node's on-chain marks before
// anything is served or settled. The journal is behind when it numbered
// fewer runs than the chain settled, when it holds unsettled runs the
// chain settled the numbers of (outside batches the chain may have settled
// itself: those at or below last_batch_seq, whose roots the settler
// checks), or when it is empty while the node has settled batches. Behind,
// it returns a *JournalBehindError, unless accept: then those runs are
// written off with ReasonJournalLoss (logged and counted) and new runs are
// numbered above the chain's mark.
func (s *Settler) CheckJournal(ctx context.Context, accept bool) error {
	v, err := s.readView(ctx)
	if err != nil {
		return err
	}
	if !v.Node.Keeper.Equals(s.keeper) {
		return fmt.Errorf("%w: node %s's keeper key is %s, this keeper signs with %s (set_keeper_key, or fix keypair)", ErrNotNodeKeeper, s.nodeAddr, v.Node.Keeper, s.keeper)
	}
	chainRun, chainBatch := v.Node.LastRunSeq, v.Node.LastBatchSeq
	highest := s.journal.HighestRunSeq()
	stale, err := s.journal.Stale(chainRun, chainBatch)
	if err != nil {
		return fmt.Errorf("journal %s: %w", s.journal.Path(), err)
	}
	_, hasBatch, err := s.journal.LastBatch()
	if err != nil {
		return fmt.Errorf("journal %s: %w", s.journal.Path(), err)
	}
	s.noteRunSeqs(chainRun)
	empty := highest == 0 && !hasBatch
	var history string
	if empty {
		history = s.store.history()
	}
	if highest >= chainRun && len(stale) == 0 && !(empty && (chainBatch > 0 || history != "")) {
		return nil
	}
	behind := &JournalBehindError{Journal: s.journal.Path(), Node: s.nodeAddr, ChainRunSeq: chainRun, JournalRunSeq: highest,
		ChainBatchSeq: chainBatch, Stale: len(stale)}
	if history != "" && chainBatch == 0 {
		behind.StateFile, behind.StateHistory = s.cfg.StatePath, history
	}
	if !accept {
		return behind
	}
	return s.acceptLoss(behind, stale)
}

// acceptLoss writes off the stale runs and raises the journal's run
// numbers above the chain's mark. A batch above the chain's last batch
// that holds a stale run can never land (its range starts at or below the
// mark): it is failed first, its other runs return to be batched again.
// Each step can be repeated after a crash: the next start finds what is left.
func (s *Settler) acceptLoss(behind *JournalBehindError, stale []journal.StaleRun) error {
	failed := map[uint64]bool{}
	for _, r := range stale {
		if r.State == journal.StateBatched && !failed[r.Batch] {
			failed[r.Batch] = true
			if err := s.journal.MarkFailed(r.Batch, "journal behind the chain: its runs were settled by other batches (--accept-journal-loss)"); err != nil {
				return fmt.Errorf("accept journal loss: fail batch %d: %w", r.Batch, err)
			}
			s.metrics.batches.WithLabelValues("failed").Inc()
		}
	}
	ids := make([]receipts.RunID, len(stale))
	var value uint64
	for i, r := range stale {
		ids[i] = r.ID
		value += r.Cost
	}
	if len(ids) > 0 {
		if err := s.journal.WriteOff(ids, "settlement: "+ReasonJournalLoss); err != nil {
			return fmt.Errorf("accept journal loss: %w", err)
		}
		s.metrics.writtenOff.WithLabelValues(ReasonJournalLoss).Add(float64(len(ids)))
	}
	if err := s.journal.SetRunSeqFloor(behind.ChainRunSeq); err != nil {
		return fmt.Errorf("accept journal loss: %w", err)
	}
	s.log.Warn("journal behind the chain: loss accepted (--accept-journal-loss); runs written off, new runs numbered above the chain's mark",
		"journal", behind.Journal, "node", behind.Node, "chain_last_run_seq", behind.ChainRunSeq, "journal_run_seq", behind.JournalRunSeq,
		"chain_last_batch_seq", behind.ChainBatchSeq, "runs_written_off", len(ids), "value_written_off", value, "batches_failed", len(failed))
	s.noteRunSeqs(behind.ChainRunSeq)
	return nil
}

// noteRunSeqs publishes the node's and the journal's highest run numbers.
func (s *Settler) noteRunSeqs(chain uint64) {
	local := s.journal.HighestRunSeq()
	s.metrics.runSeq.WithLabelValues("chain").Set(float64(chain))
	s.metrics.runSeq.WithLabelValues("journal").Set(float64(local))
	s.mu.Lock()
	s.status.ChainLastRunSeq, s.status.JournalRunSeq = chain, local
	s.mu.Unlock()
}

// history says what the state file records of earlier settlement: batches
// in flight and lookup tables created ("" for none). A keeper that never
// settled has neither.
func (st *store) history() string {
	st.mu.Lock()
	defer st.mu.Unlock()
	var parts []string
	if n := len(st.st.Plans); n > 0 {
		seqs := make([]string, n)
		for i, p := range st.st.Plans {
			seqs[i] = fmt.Sprintf("#%d", p.Seq)
		}
		parts = append(parts, fmt.Sprintf("%d settlement batches in flight (%s)", n, strings.Join(seqs, ", ")))
	}
	tables := 0
	for _, t := range st.st.Tables {
		if t.Created {
			tables++
		}
	}
	if tables > 0 {
		parts = append(parts, fmt.Sprintf("%d lookup tables created for settling", tables))
	}
	return strings.Join(parts, " and ")
}
