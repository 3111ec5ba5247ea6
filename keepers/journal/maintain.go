package journal

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/modelcommons/modelcommons/keepers/poll"
)

// Prune deletes the receipts of batches that settled more than
// Config.Retention ago. Batch records stay (without their run list) so that
// sequence numbers and roots remain answerable. It returns the number of
// receipts deleted. Batches are pruned in sequence order; a batch that is
// not yet prunable stops the pass.
func (j *Journal) Prune() (int, error) {
	// A pruned receipt must not come back from a frame of the log.
	if err := j.flushAndReset(); err != nil {
		return 0, fmt.Errorf("prune: %w", err)
	}
	cutoff := j.cfg.Now().Add(-j.cfg.Retention)
	deleted := 0
	for {
		n, more, err := j.pruneSome(cutoff, 64)
		deleted += n
		if err != nil || !more {
			return deleted, err
		}
	}
}

// pruneSome prunes up to maxBatches batches in one transaction.
func (j *Journal) pruneSome(cutoff time.Time, maxBatches int) (deleted int, more bool, err error) {
	err = j.update(func(tx *bolt.Tx) error {
		deleted, more = 0, false
		meta, rb, eb := tx.Bucket(bucketMeta), tx.Bucket(bucketReceipts), tx.Bucket(bucketByEscrow)
		var from uint64
		if v := meta.Get(keyPruneCursor); v != nil {
			from = binary.BigEndian.Uint64(v)
		}
		c := tx.Bucket(bucketBatches).Cursor()
		done := 0
		k, v := c.Seek(u64(from))
		for ; k != nil; k, v = c.Next() {
			if done == maxBatches {
				more = true
				break
			}
			var b Batch
			if err := json.Unmarshal(v, &b); err != nil {
				return err
			}
			if b.State == BatchFailed || b.Pruned {
				from = b.Seq + 1
				continue
			}
			if b.State != BatchSettled || !b.SettledAt.Before(cutoff) {
				break
			}
			for _, id := range b.RunIDs {
				rv := rb.Get(id[:])
				if rv == nil {
					continue
				}
				e, err := decodeEntry(rv)
				if err != nil {
					return err
				}
				if err := eb.Delete(escrowKey(e.Signed.Receipt.Escrow, id)); err != nil {
					return err
				}
				if err := rb.Delete(id[:]); err != nil {
					return err
				}
				deleted++
			}
			b.RunIDs = nil
			b.Pruned = true
			if err := putBatch(tx, &b); err != nil {
				return err
			}
			from = b.Seq + 1
			done++
		}
		return meta.Put(keyPruneCursor, u64(from))
	})
	return deleted, more, err
}

// Compact rewrites the journal into a fresh file holding only live data and
// atomically replaces the old file with it. Records and other operations
// wait while it runs. A crash at any point leaves a complete journal: the
// new file is synced before the rename and the directory after it.
func (j *Journal) Compact() error {
	if j.cfg.ReadOnly {
		return ErrReadOnly
	}
	if err := j.flush(); err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	j.dbMu.Lock()
	defer j.dbMu.Unlock()
	if j.closed.Load() {
		return ErrClosed
	}
	tmp := compactPath(j.path)
	_ = os.Remove(tmp)
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: time.Second, NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return fmt.Errorf("compact: create %s: %w", tmp, err)
	}
	if err := bolt.Compact(dst, j.db, 16<<20); err != nil {
		dst.Close()
		os.Remove(tmp)
		return fmt.Errorf("compact: copy: %w", err)
	}
	if err := dst.Sync(); err != nil {
		dst.Close()
		os.Remove(tmp)
		return fmt.Errorf("compact: sync: %w", err)
	}
	if err := dst.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("compact: close copy: %w", err)
	}
	before := fileSize(j.path)
	if err := j.db.Close(); err != nil {
		return fmt.Errorf("compact: close journal: %w", err)
	}
	j.db = nil
	renameErr := os.Rename(tmp, j.path)
	if renameErr == nil {
		renameErr = syncDir(filepath.Dir(j.path))
	}
	// Whatever happened, reopen what is at the path: the old file if the
	// rename failed, the compacted one otherwise.
	db, err := openDB(j.path, false)
	if err != nil {
		return fmt.Errorf("compact: reopen (journal is unusable until restart): %w", errors.Join(renameErr, err))
	}
	j.db = db
	if renameErr != nil {
		os.Remove(tmp)
		return fmt.Errorf("compact: swap files: %w", renameErr)
	}
	j.log.Info("journal compacted", "bytes_before", before, "bytes_after", fileSize(j.path))
	return nil
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// needsCompaction: the file is over CompactMinBytes and less than half of
// it holds live pages (free pages and bbolt's preallocated tail count as
// reclaimable).
func (j *Journal) needsCompaction() bool {
	j.dbMu.RLock()
	defer j.dbMu.RUnlock()
	if j.db == nil {
		return false
	}
	size := fileSize(j.path)
	if size < j.cfg.CompactMinBytes {
		return false
	}
	var highWater int64
	if err := j.db.View(func(tx *bolt.Tx) error { highWater = tx.Size(); return nil }); err != nil {
		return false
	}
	st := j.db.Stats()
	live := highWater - int64(st.FreePageN+st.PendingPageN)*int64(j.db.Info().PageSize)
	return live*2 < size
}

// Maintain prunes and compacts if needed, once.
func (j *Journal) Maintain() error {
	n, err := j.Prune()
	if err != nil {
		return fmt.Errorf("prune: %w", err)
	}
	if n > 0 {
		j.log.Info("journal pruned", "receipts", n)
	}
	// A backup being written holds the file; compaction waiting for it
	// would hold every Record behind it. The next pass compacts.
	if j.backups.Load() > 0 {
		return nil
	}
	if j.needsCompaction() {
		return j.Compact()
	}
	return nil
}

// Run maintains the journal every Config.MaintenanceInterval until ctx ends.
func (j *Journal) Run(ctx context.Context) error {
	return poll.Every(ctx, j.cfg.MaintenanceInterval, func(context.Context) error { return j.Maintain() },
		func(err error) { j.log.Error("journal maintenance", "err", err) })
}
