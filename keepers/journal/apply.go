package journal

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/modelcommons/modelcommons/keepers/receipts"
)

// Applying the receipt log. Replay is idempotent by run id: a logged
// receipt is put into bbolt only if its run id is not there yet, and the
// stored run counter is raised to the highest logged run number. So
// recovery is "apply every valid frame" with no bookkeeping of what was
// applied, and the log is reset only after the bbolt transaction holding
// everything it logged has committed (a crash between the two replays it
// again, changing nothing).

const (
	// applyEvery is how often the applier moves logged receipts into
	// bbolt when the committer has not asked sooner.
	applyEvery = 100 * time.Millisecond
	// applyAt pending receipts wake the applier at once.
	applyAt = 4096
	// applyChunk receipts at most go into one bbolt transaction.
	applyChunk = 2048
)

var keyJournalID = []byte("journal_id") // 16 random bytes, the receipt log's owner

// journalID reads or (read-write) creates the journal's id.
func journalID(tx *bolt.Tx, create bool) ([16]byte, error) {
	var id [16]byte
	meta := tx.Bucket(bucketMeta)
	if v := meta.Get(keyJournalID); len(v) == 16 {
		return [16]byte(v), nil
	} else if v != nil {
		return id, fmt.Errorf("journal id of %d bytes", len(v))
	}
	if !create {
		return id, nil
	}
	if _, err := rand.Read(id[:]); err != nil {
		return id, err
	}
	return id, meta.Put(keyJournalID, id[:])
}

// putLogged stores the logged receipts bbolt lacks and raises the stored
// run counter to the highest of them.
func putLogged(tx *bolt.Tx, logPath string, recs []logRec) error {
	rb, eb, meta := tx.Bucket(bucketReceipts), tx.Bucket(bucketByEscrow), tx.Bucket(bucketMeta)
	var top uint64
	if v := meta.Get(keyRunSeq); len(v) == 8 {
		top = be64(v)
	}
	raised := false
	for _, r := range recs {
		if r.seq() > top {
			top, raised = r.seq(), true
		}
		if rb.Get(r.id[:]) != nil {
			continue
		}
		if len(r.value) < headerLen+64 {
			return logDamaged(logPath, "receipt %s in the receipt log is cut short", r.id)
		}
		esc, _, err := receipts.Peek(r.value[headerLen+64:])
		if err != nil {
			return logDamaged(logPath, "receipt %s in the receipt log: %v", r.id, err)
		}
		if err := rb.Put(r.id[:], r.value); err != nil {
			return err
		}
		if err := eb.Put(escrowKey(esc, r.id), nil); err != nil {
			return err
		}
	}
	if !raised {
		return nil
	}
	return meta.Put(keyRunSeq, u64(top))
}

// openLog opens (creating it if missing) the receipt log of a journal
// opened read-write, replays it into bbolt and resets it.
func (j *Journal) openLog() error {
	lp := logPath(j.path)
	f, err := os.OpenFile(lp, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		if err := createLog(lp, j.id, j.cfg.LogBytes); err != nil {
			return err
		}
		f, err = os.OpenFile(lp, os.O_RDWR, 0)
	}
	if err != nil {
		return fmt.Errorf("receipt log %s: %w", lp, err)
	}
	c, err := readLog(lp, f)
	if err == nil && c.header.id != j.id {
		if c.frames > 0 {
			err = fmt.Errorf("journal %s: %w: its receipt log %s holds %d receipts of journal %x, not of this one (%x); nothing was applied: "+
				"if this journal file was lost or replaced, restore its backup (the log's receipts are replayed into it), or move the log aside to start without them",
				j.path, errForeignLog, lp, len(c.recs), c.header.id, j.id)
		} else {
			// Nothing logged: the log of a journal that is gone is empty
			// and only its id is wrong.
			j.log.Warn("replacing an empty receipt log of another journal", "path", lp)
			f.Close()
			if err := os.Remove(lp); err != nil {
				return fmt.Errorf("receipt log %s: %w", lp, err)
			}
			return j.openLog()
		}
	}
	if err != nil {
		f.Close()
		return err
	}
	l := &receiptLog{path: lp, f: f, header: c.header, slot: c.slot, tail: c.tail}
	slices.SortFunc(c.recs, func(a, b logRec) int { return bytes.Compare(a.id[:], b.id[:]) })
	for recs := c.recs; len(recs) > 0; {
		chunk := recs[:min(len(recs), applyChunk)]
		recs = recs[len(chunk):]
		if err := guard(j.path, func() error {
			return j.db.Update(func(tx *bolt.Tx) error { return putLogged(tx, lp, chunk) })
		}); err != nil {
			f.Close()
			return fmt.Errorf("journal %s: replay receipt log: %w", j.path, err)
		}
	}
	if len(c.recs) > 0 {
		j.log.Info("receipt log replayed", "path", lp, "frames", c.frames, "receipts", len(c.recs))
	}
	if !l.empty() {
		if err := l.reset(); err != nil {
			f.Close()
			return err
		}
	}
	j.wal = l
	return nil
}

// recoverLog is a read-only open's recovery of a log holding frames (as
// SQLite does for a hot journal): open the journal read-write once, which
// replays and resets the log. Without write access it fails naming the
// log rather than show fewer receipts than were acknowledged.
func recoverLog(cfg Config) error {
	c, found, err := readLogFile(cfg.Path)
	if err != nil {
		return err
	}
	if !found || c.frames == 0 {
		return nil
	}
	cfg.ReadOnly = false
	rw, err := openForRecovery(cfg)
	if err == nil {
		return rw.Close()
	}
	var de *DamagedError
	if errors.Is(err, ErrLocked) || errors.As(err, &de) || errors.Is(err, errForeignLog) {
		return err
	}
	return fmt.Errorf("journal %s: its receipt log %s holds %d receipts that may not be in the journal yet, and moving them in needs write access (%v): "+
		"run this as the keeper's user or start the keeper", cfg.Path, logPath(cfg.Path), len(c.recs), err)
}

// openForRecovery is Open (a variable so that a test can fail it as a
// missing write permission would: the tests run as root).
var openForRecovery func(Config) (*Journal, error)

func init() { openForRecovery = Open }

// applyLoop moves logged receipts into bbolt in the background.
func (j *Journal) applyLoop() {
	defer close(j.applierDone)
	t := time.NewTicker(applyEvery)
	defer t.Stop()
	for {
		select {
		case <-j.closing:
			return
		case <-j.kick:
		case <-t.C:
		}
		if j.pauseApply.Load() {
			continue
		}
		if err := j.applyPending(); err != nil {
			j.log.Error("journal: apply receipt log", "err", err)
			continue
		}
		// Reset when the log is past half full (the committer waits for
		// one catch-up transaction) or when nothing is pending (cheap).
		j.logMu.Lock()
		if j.wal != nil && !j.wal.empty() && (j.pendingCount() == 0 || !j.wal.fits(j.wal.header.capacity/2)) {
			if err := j.resetLocked(); err != nil {
				j.log.Error("journal: reset receipt log", "err", err)
			}
		}
		j.logMu.Unlock()
	}
}

func (j *Journal) pendingCount() int {
	j.pendMu.RLock()
	defer j.pendMu.RUnlock()
	return len(j.pending)
}

// applyPending puts every receipt logged before the call into bbolt and
// drops them from the pending map, applyChunk receipts per transaction in
// run-id order (bbolt inserts into a leaf by moving its elements, so one
// huge transaction of random keys costs quadratic time). Receipts are
// dropped only after the transaction holding them committed, so each is
// always in the map, in bbolt or both.
func (j *Journal) applyPending() error {
	j.pendMu.RLock()
	recs := make([]logRec, 0, len(j.pending))
	for id, v := range j.pending {
		recs = append(recs, logRec{id: id, value: v})
	}
	j.pendMu.RUnlock()
	slices.SortFunc(recs, func(a, b logRec) int { return bytes.Compare(a.id[:], b.id[:]) })
	lp := logPath(j.path)
	for len(recs) > 0 {
		chunk := recs[:min(len(recs), applyChunk)]
		recs = recs[len(chunk):]
		if err := j.inDB(true, func(tx *bolt.Tx) error { return putLogged(tx, lp, chunk) }); err != nil {
			return fmt.Errorf("apply %d logged receipts: %w", len(chunk), err)
		}
		j.pendMu.Lock()
		for _, r := range chunk {
			delete(j.pending, r.id)
		}
		j.pendMu.Unlock()
	}
	return nil
}

// flush makes bbolt hold every receipt acknowledged before the call: what
// reads of bbolt (batches, listings, proofs, backups, compaction) need.
func (j *Journal) flush() error {
	if j.cfg.ReadOnly {
		return nil
	}
	return j.applyPending()
}

// resetLocked (logMu held) applies what is pending and empties the log.
func (j *Journal) resetLocked() error {
	if err := j.applyPending(); err != nil {
		return err
	}
	return j.wal.reset()
}

// flushAndReset empties the log (Prune needs it: a pruned receipt must not
// come back from an old frame).
func (j *Journal) flushAndReset() error {
	if j.cfg.ReadOnly {
		return nil
	}
	j.logMu.Lock()
	defer j.logMu.Unlock()
	if j.wal == nil {
		return ErrClosed
	}
	if j.wal.empty() && j.pendingCount() == 0 {
		return nil
	}
	return j.resetLocked()
}

// refuseOrphanLog refuses to begin a new journal at path while a receipt
// log beside it holds receipts: they were acknowledged, and a new journal
// (a new id) would refuse the log anyway, after writing a file that hides
// the loss.
func refuseOrphanLog(path string) error {
	c, found, err := readLogFile(path)
	if err != nil {
		return err
	}
	if !found || c.frames == 0 {
		return nil
	}
	lp := logPath(path)
	return fmt.Errorf("journal %s: %w: the journal file is missing or empty but %s holds %d receipts; nothing was started: "+
		"restore the journal's latest backup to %s (the log's receipts are replayed into it), or move the log aside to start a new journal without them",
		path, errOrphanLog, lp, len(c.recs), path)
}
