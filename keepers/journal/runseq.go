package journal

import (
	"encoding/binary"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/modelcommons/modelcommons/keepers/receipts"
)

// Run numbers. The journal numbers the runs it records 1, 2, 3, … in the
// bbolt transaction that records them (the meta counter and the record
// header), so a number is durable exactly when its receipt is and is never
// given twice by one file. The chain keeps the node's highest settled
// number (last_run_seq) and refuses a batch whose range does not start
// above it: a journal restored from an old copy numbers runs the chain has
// already settled, which is how a keeper notices it is behind
// (keepers/settler.CheckJournal).

// Run is one unbatched receipt as the settler plans it.
type Run struct {
	ID           receipts.RunID
	Seq          uint64
	Escrow       [32]byte
	Models       []receipts.ModelShare
	ServedAtMs   int64
	InputTokens  uint64
	OutputTokens uint64
	Cost         uint64
}

// HighestRunSeq is the highest run number this journal has assigned (0 for
// none).
func (j *Journal) HighestRunSeq() uint64 { return j.runSeq.Load() }

// SetRunSeqFloor makes the next run number at least floor+1. An operator
// who accepts that the journal lost runs the chain settled raises the floor
// to the chain's last_run_seq, so that new runs number above it. Lowering
// is a no-op.
func (j *Journal) SetRunSeqFloor(floor uint64) error {
	if j.cfg.ReadOnly {
		return ErrReadOnly
	}
	// Held against the committer, which numbers runs from the in-memory
	// counter: raised under the same lock, no run gets a lower number.
	j.logMu.Lock()
	defer j.logMu.Unlock()
	j.dbMu.RLock()
	defer j.dbMu.RUnlock()
	if j.closed.Load() {
		return ErrClosed
	}
	if j.db == nil {
		return ErrBroken
	}
	var now uint64
	err := j.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if v := meta.Get(keyRunSeq); len(v) == 8 {
			now = binary.BigEndian.Uint64(v)
		}
		if floor <= now {
			return nil
		}
		now = floor
		return meta.Put(keyRunSeq, u64(floor))
	})
	if err != nil {
		return fmt.Errorf("set run number floor %d: %w", floor, err)
	}
	j.raiseRunSeq(now)
	j.log.Warn("journal run numbers raised", "floor", floor)
	return nil
}

// raiseRunSeq sets the in-memory counter to v unless it is already higher:
// the committer and SetRunSeqFloor write the stored counter in transactions
// bbolt serialises, but publish it after, in either order.
func (j *Journal) raiseRunSeq(v uint64) {
	for {
		cur := j.runSeq.Load()
		if cur >= v || j.runSeq.CompareAndSwap(cur, v) {
			return
		}
	}
}

// unbatchedBySeq snapshots the unbatched set in run-number order.
func (j *Journal) unbatchedBySeq() []receipts.RunID {
	type pair struct {
		id  receipts.RunID
		seq uint64
	}
	j.spendMu.RLock()
	ps := make([]pair, 0, len(j.unbatched))
	for id, seq := range j.unbatched {
		ps = append(ps, pair{id, seq})
	}
	j.spendMu.RUnlock()
	slices.SortFunc(ps, func(a, b pair) int {
		switch {
		case a.seq < b.seq:
			return -1
		case a.seq > b.seq:
			return 1
		}
		return 0
	})
	out := make([]receipts.RunID, len(ps))
	for i, p := range ps {
		out[i] = p.id
	}
	return out
}

// UnbatchedRuns returns the limit lowest-numbered recorded receipts that
// are in no batch, in run-number order.
func (j *Journal) UnbatchedRuns(limit int) ([]Run, error) {
	if limit <= 0 {
		limit = 1000
	}
	if err := j.flush(); err != nil {
		return nil, err
	}
	ids := j.unbatchedBySeq()
	var out []Run
	err := j.view(func(tx *bolt.Tx) error {
		rb := tx.Bucket(bucketReceipts)
		for _, id := range ids {
			if len(out) == limit {
				break
			}
			v := rb.Get(id[:])
			if v == nil || State(v[0]) != StateRecorded {
				continue // batched or written off since the snapshot
			}
			e, err := decodeEntry(v)
			if err != nil {
				return err
			}
			r := e.Signed.Receipt
			out = append(out, Run{ID: r.RunID, Seq: e.RunSeq, Escrow: r.Escrow, Models: r.Models, ServedAtMs: r.ServedAtMs,
				InputTokens: r.InputTokens, OutputTokens: r.OutputTokens, Cost: r.Cost})
		}
		return nil
	})
	return out, err
}

// StaleRun is a receipt not yet settled whose run number the chain has
// already settled, outside any batch the chain may have settled.
type StaleRun struct {
	ID     receipts.RunID
	Seq    uint64
	State  State
	Batch  uint64 // its batch (0 when recorded)
	Escrow [32]byte
	Cost   uint64
}

// Stale lists the receipts that can never settle because the chain settled
// their run numbers already: recorded ones numbered ≤ chainRunSeq, and
// batched ones numbered ≤ chainRunSeq whose batch is above chainBatchSeq
// (a batch at or below it may be the very one the chain settled; the
// settler checks its root).
func (j *Journal) Stale(chainRunSeq, chainBatchSeq uint64) ([]StaleRun, error) {
	if err := j.flush(); err != nil {
		return nil, err
	}
	var out []StaleRun
	err := j.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketReceipts).ForEach(func(k, v []byte) error {
			if len(v) < headerLen+64 || len(k) != 16 {
				return fmt.Errorf("journal: corrupt record %x", k)
			}
			st, batch, seq := State(v[0]), binary.BigEndian.Uint64(v[1:9]), runSeqOf(v)
			if seq > chainRunSeq || (st != StateRecorded && st != StateBatched) || (st == StateBatched && batch <= chainBatchSeq) {
				return nil
			}
			esc, cost, err := receipts.Peek(v[headerLen+64:])
			if err != nil {
				return fmt.Errorf("journal: record %x: %w", k, err)
			}
			out = append(out, StaleRun{ID: receipts.RunID(k), Seq: seq, State: st, Batch: batch, Escrow: esc, Cost: cost})
			return nil
		})
	})
	slices.SortFunc(out, func(a, b StaleRun) int {
		switch {
		case a.Seq < b.Seq:
			return -1
		case a.Seq > b.Seq:
			return 1
		}
		return 0
	})
	return out, err
}
