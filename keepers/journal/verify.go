package journal

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Report is what Verify and Salvage found in a journal file.
type Report struct {
	Path  string `json:"path"`
	Bytes int64  `json:"bytes"`
	Pages uint64 `json:"pages"`
	// TornHeader: one of the two header pages is invalid and bbolt uses the
	// other (a commit interrupted while writing its header: harmless).
	TornHeader bool `json:"torn_header,omitempty"`
	// Receipts by state, batches by state, the highest run number stored.
	Receipts map[State]int      `json:"receipts"`
	Batches  map[BatchState]int `json:"batches"`
	RunSeq   uint64             `json:"run_seq"`
	// Problems found (Verify stops at the first; Salvage lists every part
	// it could not read).
	Problems []string `json:"problems,omitempty"`
	// LostReceipts and LostBatches count records Salvage read but could
	// not keep (damaged bytes, bad signature); receipts in unreadable pages
	// are not counted, as nothing says how many there were.
	LostReceipts int `json:"lost_receipts,omitempty"`
	LostBatches  int `json:"lost_batches,omitempty"`
	// LogReceipts is the number of receipts in the receipt log's frames,
	// LogUnapplied those of them the file does not hold yet (a read-write
	// open moves them in); LogTaken the number Salvage took from the log
	// that the file lacked.
	LogReceipts  int `json:"log_receipts,omitempty"`
	LogUnapplied int `json:"log_unapplied,omitempty"`
	LogTaken     int `json:"log_taken,omitempty"`
}

// Verify checks a journal file without changing it: the file's structure
// as Open does, then every receipt's encoding and signature, every batch
// record, and bbolt's own consistency check. A file with a fault returns
// a *DamagedError (errors.Is ErrDamaged) for the first one. It takes the
// shared lock, so it fails with ErrLocked while a keeper runs on the file
// (ask the running keeper for a backup and verify that).
func Verify(path string) (Report, error) {
	r := Report{Path: path, Receipts: map[State]int{}, Batches: map[BatchState]int{}}
	f, err := os.Open(path)
	if err != nil {
		return r, fmt.Errorf("journal %s: %w", path, err)
	}
	defer f.Close()
	if err := lockFile(f, false); err != nil {
		return r, fmt.Errorf("journal %s: %w", path, err)
	}
	st, err := f.Stat()
	if err != nil {
		return r, fmt.Errorf("journal %s: %w", path, err)
	}
	r.Bytes = st.Size()
	if r.Bytes == 0 {
		return r, damaged(path, "it is empty (0 bytes)")
	}
	fi, err := readMetas(path, f, st.Size())
	if err != nil {
		return r, err
	}
	r.Pages, r.TornHeader = fi.meta.pgid, fi.torn
	var schema, id []byte
	stored := map[[16]byte]bool{}
	w := &walker{path: path, f: f, fi: fi, seen: map[uint64]bool{}, leaf: func(bucket [][]byte, k, v []byte) error {
		rec, err := readRecord(bucket, k, v)
		if err != nil {
			return damaged(path, "%v", err)
		}
		switch x := rec.(type) {
		case Entry:
			r.Receipts[x.State]++
			stored[x.Signed.Receipt.RunID] = true
		case *Batch:
			r.Batches[x.State]++
		case metaValue:
			switch string(x.key) {
			case string(keyJournalID):
				id = x.value
			case string(keySchema):
				schema = x.value
			case string(keyRunSeq):
				r.RunSeq = max(r.RunSeq, binary.BigEndian.Uint64(x.value))
			}
		}
		return nil
	}}
	if err := guard(path, func() error { return w.bucket(nil, fi.meta.root, nil) }); err != nil {
		return r, err
	}
	if err := checkSchema(schema); err != nil {
		return r, fmt.Errorf("journal %s: %w", path, err)
	}
	if err := verifyLog(path, id, stored, &r); err != nil {
		return r, err
	}
	// The bucket tree is sound: bbolt can map the file and run its own
	// check (pages neither reachable nor free, double frees).
	f.Close()
	var problems []string
	err = guard(path, func() error {
		db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
		if err != nil {
			return err
		}
		defer db.Close()
		return db.View(func(tx *bolt.Tx) error {
			for err := range tx.Check() {
				if len(problems) < 3 {
					problems = append(problems, err.Error())
				}
			}
			return nil
		})
	})
	if err != nil {
		return r, err
	}
	if len(problems) > 0 {
		return r, damaged(path, "bbolt's consistency check failed (%s)", problems[0])
	}
	return r, nil
}

type metaValue struct{ key, value []byte }

// readRecord decodes one stored key/value of the journal's buckets: an
// Entry (receipts, signature verified), a *Batch, a metaValue, or nil for
// the by-escrow index.
func readRecord(bucket [][]byte, k, v []byte) (any, error) {
	if len(bucket) != 1 {
		return nil, fmt.Errorf("a value outside the journal's buckets (key %x)", k)
	}
	switch string(bucket[0]) {
	case string(bucketReceipts):
		if len(k) != 16 {
			return nil, fmt.Errorf("a receipt key of %d bytes", len(k))
		}
		e, err := decodeEntry(v)
		if err != nil {
			return nil, fmt.Errorf("receipt %x: %v", k, err)
		}
		if e.State < StateRecorded || e.State > StateFailed {
			return nil, fmt.Errorf("receipt %x: no valid state (%d)", k, e.State)
		}
		if [16]byte(k) != e.Signed.Receipt.RunID {
			return nil, fmt.Errorf("receipt %x is stored under another run's id", k)
		}
		return e, nil
	case string(bucketBatches):
		var b Batch
		if len(k) != 8 {
			return nil, fmt.Errorf("a batch key of %d bytes", len(k))
		}
		if err := json.Unmarshal(v, &b); err != nil {
			return nil, fmt.Errorf("batch %x: %v", k, err)
		}
		if b.Seq != binary.BigEndian.Uint64(k) {
			return nil, fmt.Errorf("batch %d is stored under another number", b.Seq)
		}
		switch b.State {
		case BatchAssigned, BatchSent, BatchSettled, BatchFailed:
		default:
			return nil, fmt.Errorf("batch %d: no valid state (%q)", b.Seq, b.State)
		}
		return &b, nil
	case string(bucketMeta):
		if string(k) == string(keyJournalID) {
			if len(v) != 16 {
				return nil, fmt.Errorf("a journal id of %d bytes", len(v))
			}
			return metaValue{append([]byte(nil), k...), append([]byte(nil), v...)}, nil
		}
		if len(v) != 8 {
			return nil, fmt.Errorf("meta value %q of %d bytes", k, len(v))
		}
		return metaValue{append([]byte(nil), k...), append([]byte(nil), v...)}, nil
	case string(bucketByEscrow):
		if len(k) != 32+16 {
			return nil, fmt.Errorf("an escrow index key of %d bytes", len(k))
		}
		return nil, nil
	}
	return nil, errors.New("an unknown bucket " + string(bucket[0]))
}

// verifyLog checks the receipt log beside the journal at path (if there
// is one): its frames, and that it is this journal's (id from its meta).
func verifyLog(path string, id []byte, stored map[[16]byte]bool, r *Report) error {
	c, found, err := readLogFile(path)
	if err != nil || !found {
		return err
	}
	lp := logPath(path)
	if c.frames > 0 && string(id) != string(c.header.id[:]) {
		return fmt.Errorf("journal %s: %w: its receipt log %s holds %d receipts of journal %x, not of this one (%x)", path, errForeignLog, lp, len(c.recs), c.header.id, id)
	}
	r.LogReceipts = len(c.recs)
	for _, rec := range c.recs {
		if !stored[rec.id] {
			r.LogUnapplied++
		}
	}
	return nil
}
