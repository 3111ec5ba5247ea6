package journal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// Salvage copies every receipt and batch it can read from the journal at
// src into a new journal at dst (which must not exist) and reports what it
// could not read. It reads src as Verify does, without mapping it, and
// skips what is damaged: a page it cannot read loses the receipts on it
// (nothing says how many; Problems lists each such page), a receipt whose
// bytes or signature are damaged is counted in LostReceipts. Receipts keep
// their state, batch and run number; the new journal's run counter is at
// least the old one's, so a run number is never given twice.
//
// What was lost the keeper learns at its next start from the chain: a
// journal behind the node's on-chain marks is refused until the operator
// accepts the loss (keeper run --accept-journal-loss).
func Salvage(src, dst string) (Report, error) {
	r := Report{Path: dst, Receipts: map[State]int{}, Batches: map[BatchState]int{}}
	if _, err := os.Lstat(dst); err == nil {
		return r, fmt.Errorf("salvage into %s: %w", dst, ErrExists)
	}
	f, err := os.Open(src)
	if err != nil {
		return r, fmt.Errorf("journal %s: %w", src, err)
	}
	defer f.Close()
	if err := lockFile(f, false); err != nil {
		return r, fmt.Errorf("journal %s: %w", src, err)
	}
	st, err := f.Stat()
	if err != nil {
		return r, fmt.Errorf("journal %s: %w", src, err)
	}
	if st.Size() == 0 {
		return r, fmt.Errorf("journal %s is empty (0 bytes): there is nothing to salvage", src)
	}
	fi, err := readMetas(src, f, st.Size())
	if err != nil {
		if fi.meta.pageSize == 0 {
			return r, err // no header: nothing says where anything is
		}
		// Truncated: read what is left.
		r.Problems = append(r.Problems, err.(*DamagedError).Problem)
	}
	r.TornHeader = fi.torn

	records := map[[16]byte][]byte{}
	batches := map[uint64]*Batch{}
	var runSeq uint64
	var id []byte
	w := &walker{path: src, f: f, fi: fi, seen: map[uint64]bool{}, salvage: true}
	w.skipped = func(bucket [][]byte, problem error) {
		msg := problem.Error()
		var de *DamagedError
		if errors.As(problem, &de) {
			msg = de.Problem
		}
		if len(bucket) == 1 && string(bucket[0]) == string(bucketByEscrow) {
			msg += " (an index: rebuilt from the receipts, nothing lost)"
		}
		r.Problems = append(r.Problems, fmt.Sprintf("bucket %q: %s", bucket, msg))
	}
	w.leaf = func(bucket [][]byte, k, v []byte) error {
		rec, err := readRecord(bucket, k, v)
		if err != nil {
			switch {
			case len(bucket) == 1 && string(bucket[0]) == string(bucketReceipts):
				r.LostReceipts++
			case len(bucket) == 1 && string(bucket[0]) == string(bucketBatches):
				r.LostBatches++
			}
			r.Problems = append(r.Problems, err.Error())
			return nil
		}
		switch x := rec.(type) {
		case Entry:
			records[x.Signed.Receipt.RunID] = slices.Clone(v)
			runSeq = max(runSeq, x.RunSeq)
		case *Batch:
			batches[x.Seq] = x
		case metaValue:
			switch string(x.key) {
			case string(keyRunSeq):
				runSeq = max(runSeq, be64(x.value))
			case string(keyJournalID):
				id = x.value
			}
		}
		return nil
	}
	if err := guard(src, func() error { return w.bucket(nil, fi.meta.root, nil) }); err != nil {
		w.skipped(nil, err)
	}
	f.Close()

	// Receipts only in the receipt log were acknowledged too.
	logged, problems := salvageLog(src, id)
	r.Problems = append(r.Problems, problems...)
	for _, rec := range logged {
		if _, err := readRecord([][]byte{bucketReceipts}, rec.id[:], rec.value); err != nil {
			r.LostReceipts++
			r.Problems = append(r.Problems, "receipt log: "+err.Error())
			continue
		}
		if records[rec.id] == nil {
			records[rec.id] = rec.value
			r.LogTaken++
		}
		runSeq = max(runSeq, rec.seq())
	}

	// Batches that name receipts which were not found.
	for _, b := range batches {
		missing := 0
		for _, id := range b.RunIDs {
			if records[id] == nil {
				missing++
			}
		}
		if missing > 0 {
			r.Problems = append(r.Problems, fmt.Sprintf("batch %d (%s) lists %d receipts that were not salvaged", b.Seq, b.State, missing))
		}
	}

	tmp := filepath.Join(filepath.Dir(dst), "."+filepath.Base(dst)+".salvage-partial")
	_ = os.Remove(tmp)
	_ = os.Remove(logPath(tmp))
	defer os.Remove(tmp)
	// The new journal's own log is empty after Close; dst has none until
	// a keeper opens it.
	defer os.Remove(logPath(tmp))
	j, err := Open(Config{Path: tmp})
	if err != nil {
		return r, fmt.Errorf("salvage into %s: %w", dst, err)
	}
	err = j.update(func(tx *bolt.Tx) error {
		rb, eb := tx.Bucket(bucketReceipts), tx.Bucket(bucketByEscrow)
		for id, v := range records {
			e, _ := decodeEntry(v) // decoded once already
			if err := rb.Put(id[:], v); err != nil {
				return err
			}
			if err := eb.Put(escrowKey(e.Signed.Receipt.Escrow, id), nil); err != nil {
				return err
			}
			r.Receipts[e.State]++
		}
		for _, b := range batches {
			if err := putBatch(tx, b); err != nil {
				return err
			}
			r.Batches[b.State]++
		}
		r.RunSeq = runSeq
		return tx.Bucket(bucketMeta).Put(keyRunSeq, u64(runSeq))
	})
	if cerr := j.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return r, fmt.Errorf("salvage into %s: %w", dst, err)
	}
	if _, err := Verify(tmp); err != nil {
		return r, fmt.Errorf("salvage into %s: the new journal does not verify: %w", dst, err)
	}
	if err := os.Link(tmp, dst); err != nil {
		if errors.Is(err, os.ErrExist) {
			err = ErrExists
		}
		return r, fmt.Errorf("salvage into %s: %w", dst, err)
	}
	r.Bytes = fileSize(dst)
	return r, syncDir(filepath.Dir(dst))
}

func be64(b []byte) uint64 {
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}

// salvageLog reads every valid frame of the current generation of the
// receipt log beside the journal at src, skipping damaged ones; id is the
// journal's id if it could be read (a log of another journal is not
// taken).
func salvageLog(src string, id []byte) ([]logRec, []string) {
	lp := logPath(src)
	f, err := os.Open(lp)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, []string{fmt.Sprintf("receipt log %s: %v", lp, err)}
	}
	defer f.Close()
	c, err := readLog(lp, f)
	var de *DamagedError
	switch {
	case err == nil:
	case errors.As(err, &de) && c.header.capacity > 0:
		// Frames after the damage: read every aligned offset.
		c.recs, c.frames = nil, 0
		end := min(c.header.capacity, fileSize(lp))
		for off := int64(logFramesAt); off < end; {
			recs, size, ok := readFrame(f, off, end, c.header.gen)
			if !ok {
				off += logAlign
				continue
			}
			c.recs = append(c.recs, recs...)
			c.frames++
			off += size
		}
	default:
		return nil, []string{err.Error()}
	}
	var problems []string
	if err != nil {
		problems = append(problems, fmt.Sprintf("receipt log: %s (took %d receipts from its %d valid frames)", de.Problem, len(c.recs), c.frames))
	}
	if id != nil && c.frames > 0 && string(id) != string(c.header.id[:]) {
		return nil, append(problems, fmt.Sprintf("receipt log %s belongs to journal %x, not %x: not taken", lp, c.header.id, id))
	}
	return c.recs, problems
}
