package journal

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/modelcommons/modelcommons/keepers/receipts"
)

// Sentinel errors callers branch on.
var (
	ErrClosed      = errors.New("journal closed")
	ErrLocked      = errors.New("journal file is locked by another process (is a keeper already running on it?)")
	ErrDuplicate   = errors.New("run already recorded")
	ErrNotFound    = errors.New("not found")
	ErrSeqInUse    = errors.New("batch sequence already assigned to a batch that has not failed")
	ErrWrongState  = errors.New("wrong state for this transition")
	ErrEmptyBatch  = errors.New("batch has no receipts")
	ErrUnsupported = errors.New("journal file has an unsupported schema version")
	ErrBroken      = errors.New("journal file could not be reopened after compaction; restart the keeper")
	ErrReadOnly    = errors.New("journal opened read-only")
)

// schemaVersion 2 numbers runs (run sequence numbers in the record
// header and the meta counter); a version-1 file is refused. Version 3
// has a receipt log beside it (wal.go) that an older keeper would not
// read: a read-write open upgrades a version-2 file (which has no log).
const (
	schemaVersion    = 3
	oldSchemaVersion = 2
)

var (
	bucketMeta     = []byte("meta")
	bucketReceipts = []byte("receipts")  // run id -> record
	bucketByEscrow = []byte("by_escrow") // escrow || run id -> nil
	bucketBatches  = []byte("batches")   // seq (u64 BE) -> JSON Batch

	keySchema      = []byte("schema")
	keyRunSeq      = []byte("run_seq") // highest run sequence number assigned (u64 BE)
	keyPruneCursor = []byte("prune_cursor")
)

// State of a receipt.
type State uint8

const (
	StateRecorded State = 1 + iota
	StateBatched
	StateSettled
	StateFailed
)

func (s State) String() string {
	switch s {
	case StateRecorded:
		return "recorded"
	case StateBatched:
		return "batched"
	case StateSettled:
		return "settled"
	case StateFailed:
		return "failed"
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// MarshalText implements encoding.TextMarshaler.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Config configures Open.
type Config struct {
	// Path of the bbolt file; its directory is created if missing.
	Path string
	// Retention is how long settled receipts are kept after their batch
	// settled. Default 30 days.
	Retention time.Duration
	// MaxCommitRecords caps how many receipts one group commit takes.
	// Default 8192.
	MaxCommitRecords int
	// CompactMinBytes: Run compacts when the file is larger than this and
	// more than half of it is free pages. Default 64 MiB.
	CompactMinBytes int64
	// MaintenanceInterval is how often Run prunes and considers compaction.
	// Default 10 minutes.
	MaintenanceInterval time.Duration
	Logger              *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
	// ReadOnly opens an existing journal for reading only (for status and
	// receipt lookups while no keeper runs on it; a running keeper holds
	// the file lock and the open fails with ErrLocked). If the receipt log
	// holds frames, the open first replays them as a read-write open does.
	ReadOnly bool
	// LogBytes is the receipt log's preallocated size. Default
	// DefaultLogBytes.
	LogBytes int64
}

// Journal is an open journal file. Its methods are safe for concurrent use.
type Journal struct {
	cfg  Config
	log  *slog.Logger
	path string

	// dbMu: every operation holds it for reading; Compact holds it for
	// writing while it swaps the file.
	dbMu sync.RWMutex
	db   *bolt.DB

	reqs    chan *recordReq
	closing chan struct{}
	done    chan struct{}
	closed  atomic.Bool

	// The unbatched set and the unsettled spend per escrow are indexes of
	// the receipts bucket kept in memory (rebuilt from it on open), so
	// that a group commit writes two buckets, not four. They change only
	// after the transaction that changes the receipts committed.
	spendMu   sync.RWMutex
	spend     map[[32]byte]uint64
	unbatched map[receipts.RunID]uint64 // run id -> run sequence number
	// backups counts backups being written (Maintain does not compact
	// meanwhile).
	backups atomic.Int32
	// created: Open found no file, or a 0-byte one, and began a new
	// journal (Created).
	created bool
	// runSeq mirrors the meta counter: the highest run sequence number
	// assigned (written by the committer and SetRunSeqFloor only).
	runSeq atomic.Uint64

	// id is the journal's id, which its receipt log carries.
	id [16]byte
	// logMu is held by the committer while it writes a frame and
	// publishes its receipts, and by whatever resets the log.
	logMu sync.Mutex
	wal   *receiptLog
	// logErr: a log write or sync failed; nothing more is acknowledged
	// (what the failed sync left on disk is unknown until a restart).
	logErr error
	// pending holds the receipts logged but not yet applied to bbolt (run
	// id -> record value).
	pendMu      sync.RWMutex
	pending     map[receipts.RunID][]byte
	kick        chan struct{}
	applierDone chan struct{}
	// pauseApply (tests) stops the background applier.
	pauseApply atomic.Bool

	records    atomic.Uint64 // receipts made durable by Record
	commits    atomic.Uint64 // group commits (each one sync)
	commitNano atomic.Int64  // time spent in group commits
	maxRun     atomic.Uint64 // largest group commit so far
}

type recordReq struct {
	id     receipts.RunID
	escrow [32]byte
	cost   uint64
	value  []byte
	done   chan error
}

// Open opens or creates the journal file.
func Open(cfg Config) (*Journal, error) {
	if cfg.Path == "" {
		return nil, errors.New("journal: no path")
	}
	if cfg.Retention <= 0 {
		cfg.Retention = 30 * 24 * time.Hour
	}
	if cfg.MaxCommitRecords <= 0 {
		cfg.MaxCommitRecords = 8192
	}
	if cfg.CompactMinBytes <= 0 {
		cfg.CompactMinBytes = 64 << 20
	}
	if cfg.MaintenanceInterval <= 0 {
		cfg.MaintenanceInterval = 10 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.LogBytes <= 0 {
		cfg.LogBytes = DefaultLogBytes
	}
	cfg.LogBytes = (cfg.LogBytes + logAlign - 1) / logAlign * logAlign
	if err := os.MkdirAll(filepath.Dir(cfg.Path), 0o700); err != nil {
		return nil, fmt.Errorf("journal: create directory: %w", err)
	}
	// A compaction interrupted before its rename leaves a partial copy.
	if cfg.ReadOnly {
		if _, err := os.Stat(cfg.Path); err != nil {
			return nil, fmt.Errorf("journal %s: %w", cfg.Path, err)
		}
	} else if err := os.Remove(compactPath(cfg.Path)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("journal: remove stale compaction file: %w", err)
	}
	j := &Journal{
		cfg:         cfg,
		log:         cfg.Logger,
		path:        cfg.Path,
		reqs:        make(chan *recordReq, 4*cfg.MaxCommitRecords),
		closing:     make(chan struct{}),
		done:        make(chan struct{}),
		spend:       make(map[[32]byte]uint64),
		unbatched:   make(map[receipts.RunID]uint64),
		pending:     make(map[receipts.RunID][]byte),
		kick:        make(chan struct{}, 1),
		applierDone: make(chan struct{}),
	}
	// Read the file before bbolt maps it: a truncated or damaged file is
	// refused with one error instead of a crash (damage.go).
	exists, err := checkFile(cfg.Path, !cfg.ReadOnly)
	if err != nil {
		return nil, err
	}
	if !exists && cfg.ReadOnly {
		return nil, damaged(cfg.Path, "it is empty (0 bytes)")
	}
	if cfg.ReadOnly {
		if err := recoverLog(cfg); err != nil {
			return nil, err
		}
	} else if !exists {
		// Before a new file is written over the loss.
		if err := refuseOrphanLog(cfg.Path); err != nil {
			return nil, err
		}
	}
	j.created = !exists
	if fi, err := os.Stat(cfg.Path); err == nil && fi.Size() == 0 {
		j.log.Warn("journal file is empty (0 bytes): starting a new journal in it", "path", cfg.Path)
	}
	db, err := openDB(cfg.Path, cfg.ReadOnly)
	if err != nil {
		return nil, err
	}
	j.db = db
	if err := guard(cfg.Path, j.init); err != nil {
		db.Close()
		return nil, err
	}
	if !cfg.ReadOnly {
		if err := j.openLog(); err != nil {
			db.Close()
			return nil, err
		}
	}
	if err := guard(cfg.Path, j.loadIndexes); err != nil {
		if j.wal != nil {
			j.wal.f.Close()
		}
		db.Close()
		return nil, err
	}
	if cfg.ReadOnly {
		close(j.done)
		close(j.applierDone)
		return j, nil
	}
	go j.commitLoop()
	go j.applyLoop()
	return j, nil
}

func openDB(path string, readOnly bool) (db *bolt.DB, err error) {
	err = guard(path, func() (err error) {
		db, err = bolt.Open(path, 0o600, &bolt.Options{
			Timeout:        time.Second,
			NoFreelistSync: true,
			FreelistType:   bolt.FreelistMapType,
			ReadOnly:       readOnly,
			// Address space only: a growing journal is not remapped (which
			// stalls every transaction) until it passes 1 GiB.
			InitialMmapSize: 1 << 30,
		})
		return err
	})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("journal %s: %w", path, ErrLocked)
	}
	if errors.Is(err, ErrDamaged) {
		return nil, err
	}
	if errors.Is(err, bolterrors.ErrInvalid) || errors.Is(err, bolterrors.ErrChecksum) || errors.Is(err, bolterrors.ErrVersionMismatch) {
		return nil, damaged(path, "bbolt refused it (%v)", err)
	}
	if err != nil {
		return nil, fmt.Errorf("journal %s: open: %w", path, err)
	}
	return db, nil
}

func compactPath(path string) string { return path + ".compact" }

func (j *Journal) init() error {
	if j.cfg.ReadOnly {
		err := j.db.View(func(tx *bolt.Tx) error {
			meta := tx.Bucket(bucketMeta)
			if meta == nil {
				return errors.New("not a keeper journal (no meta bucket)")
			}
			if err := checkSchema(meta.Get(keySchema)); err != nil {
				return err
			}
			var err error
			j.id, err = journalID(tx, false)
			return err
		})
		if err != nil {
			return fmt.Errorf("journal: %w", err)
		}
		return nil
	}
	err := j.db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketMeta, bucketReceipts, bucketByEscrow, bucketBatches} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		if v := meta.Get(keySchema); v == nil {
			if tx.Bucket(bucketReceipts).Stats().KeyN > 0 {
				return fmt.Errorf("%w: receipts without a schema version", ErrUnsupported)
			}
		} else if err := checkSchema(v); err != nil {
			return err
		}
		var err error
		if j.id, err = journalID(tx, true); err != nil {
			return err
		}
		return meta.Put(keySchema, u64(schemaVersion))
	})
	if err != nil {
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	return nil
}

// checkSchema refuses a file of another format with what to do about it.
func checkSchema(v []byte) error {
	if len(v) != 8 {
		return fmt.Errorf("%w: no schema version (not a keeper journal?)", ErrUnsupported)
	}
	if got := binary.BigEndian.Uint64(v); got != schemaVersion && got != oldSchemaVersion {
		return fmt.Errorf("%w: format %d, this keeper reads format %d (runs numbered per node); "+
			"let the keeper version that wrote it settle every run, then move the file aside and start with a new journal", ErrUnsupported, got, schemaVersion)
	}
	return nil
}

// loadIndexes rebuilds the unbatched set and the unsettled spend from the
// stored receipts' states.
func (j *Journal) loadIndexes() error {
	return j.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(keyRunSeq); len(v) == 8 {
			j.runSeq.Store(binary.BigEndian.Uint64(v))
		}
		return tx.Bucket(bucketReceipts).ForEach(func(k, v []byte) error {
			if len(v) < headerLen+64 || len(k) != 16 {
				return damaged(j.path, "receipt record %x is cut short", k)
			}
			st := State(v[0])
			if st < StateRecorded || st > StateFailed {
				return damaged(j.path, "receipt record %x has no valid state (%d)", k, v[0])
			}
			if st != StateRecorded && st != StateBatched {
				return nil
			}
			esc, cost, err := receipts.Peek(v[headerLen+64:])
			if err != nil {
				return damaged(j.path, "receipt record %x: %v", k, err)
			}
			j.spend[esc] += cost
			if st == StateRecorded {
				j.unbatched[receipts.RunID(k)] = runSeqOf(v)
			}
			return nil
		})
	})
}

// Close stops the committer (pending Records complete first), moves the
// logged receipts into bbolt, empties the log and closes both files.
func (j *Journal) Close() error {
	if !j.closed.CompareAndSwap(false, true) {
		return nil
	}
	close(j.closing)
	<-j.done
	<-j.applierDone
	var werr error
	if j.wal != nil {
		j.logMu.Lock()
		if !j.pauseApply.Load() && j.logErr == nil {
			werr = j.closeLogLocked()
		}
		werr = errors.Join(werr, j.wal.f.Close())
		j.logMu.Unlock()
	}
	j.dbMu.Lock()
	defer j.dbMu.Unlock()
	if j.db == nil {
		return werr
	}
	return errors.Join(werr, j.db.Close())
}

// closeLogLocked applies what is pending and resets the log.
func (j *Journal) closeLogLocked() error {
	if j.wal.empty() {
		return nil
	}
	if err := j.resetLocked(); err != nil {
		return fmt.Errorf("journal %s: on close: %w", j.path, err)
	}
	return nil
}

// Path is the journal file's path.
func (j *Journal) Path() string { return j.path }

// Created reports whether Open began a new journal because the file was
// missing or empty (0 bytes). A keeper whose other records show history
// must not take such a journal for its own (keepers/settler.CheckJournal).
func (j *Journal) Created() bool { return j.created }

// record value: state (1) | batch seq (8, BE) | run seq (8, BE) | signed
// receipt (64 + encoding).
const headerLen = 17

func encodeRecord(st State, batch, run uint64, signed []byte) []byte {
	v := make([]byte, headerLen+len(signed))
	v[0] = byte(st)
	binary.BigEndian.PutUint64(v[1:9], batch)
	binary.BigEndian.PutUint64(v[9:17], run)
	copy(v[headerLen:], signed)
	return v
}

// restate is stored record v in state st and batch (its run number and
// receipt unchanged).
func restate(v []byte, st State, batch uint64) []byte {
	return encodeRecord(st, batch, runSeqOf(v), v[headerLen:])
}

func runSeqOf(v []byte) uint64 { return binary.BigEndian.Uint64(v[9:17]) }

func u64(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

// Record makes s durable. It returns once the receipt is synced to disk, or
// with an error, in which case the run must not be treated as chargeable.
func (j *Journal) Record(ctx context.Context, s receipts.Signed) error {
	if j.closed.Load() {
		return ErrClosed
	}
	if j.cfg.ReadOnly {
		return ErrReadOnly
	}
	req := &recordReq{
		id:     s.Receipt.RunID,
		escrow: s.Receipt.Escrow,
		cost:   s.Receipt.Cost,
		value:  encodeRecord(StateRecorded, 0, 0, s.Marshal()),
		done:   make(chan error, 1),
	}
	select {
	case j.reqs <- req:
	case <-j.closing:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once queued, the outcome is waited for even if ctx ends: the caller
	// must know whether the run is on disk.
	return <-req.done
}

func (j *Journal) commitLoop() {
	defer close(j.done)
	batch := make([]*recordReq, 0, j.cfg.MaxCommitRecords)
	for {
		var first *recordReq
		select {
		case first = <-j.reqs:
		case <-j.closing:
			// Commit what was queued before Close, then stop.
			for {
				batch = batch[:0]
			rest:
				for len(batch) < j.cfg.MaxCommitRecords {
					select {
					case r := <-j.reqs:
						batch = append(batch, r)
					default:
						break rest
					}
				}
				if len(batch) == 0 {
					return
				}
				j.commit(batch)
			}
		}
		batch = append(batch[:0], first)
	drain:
		for len(batch) < j.cfg.MaxCommitRecords {
			select {
			case r := <-j.reqs:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		j.commit(batch)
	}
}

// commit makes one group of receipts durable with one frame of the
// receipt log (one write, one sync), then publishes them: pending map,
// indexes, acknowledgements. bbolt gets them later (applyLoop).
func (j *Journal) commit(batch []*recordReq) {
	errs := make([]error, len(batch))
	added := make(map[[32]byte]uint64)
	t0 := time.Now()
	defer func() { j.commitNano.Add(int64(time.Since(t0))) }()
	fail := func(err error) {
		for _, r := range batch {
			r.done <- err
		}
	}
	j.logMu.Lock()
	defer j.logMu.Unlock()
	if j.logErr != nil {
		fail(fmt.Errorf("journal commit: %w", j.logErr))
		return
	}
	// Duplicates: the pending map first, then bbolt. The applier puts a
	// receipt in bbolt before it leaves the map, so a run is in one of
	// them whenever this looks.
	seen := make(map[receipts.RunID]bool, len(batch))
	j.pendMu.RLock()
	for i, r := range batch {
		if seen[r.id] || j.pending[r.id] != nil {
			errs[i] = fmt.Errorf("record run %s: %w", r.id, ErrDuplicate)
		}
		seen[r.id] = true
	}
	j.pendMu.RUnlock()
	room := j.wal.header.capacity - logFramesAt
	err := j.inDB(false, func(tx *bolt.Tx) error {
		rb := tx.Bucket(bucketReceipts)
		for i, r := range batch {
			if errs[i] == nil && frameSize([]logRec{{value: r.value}}) > room {
				errs[i] = fmt.Errorf("record run %s: a receipt of %d bytes does not fit in the receipt log (Config.LogBytes)", r.id, len(r.value))
			}
			if errs[i] == nil && rb.Get(r.id[:]) != nil {
				errs[i] = fmt.Errorf("record run %s: %w", r.id, ErrDuplicate)
			}
		}
		return nil
	})
	if err != nil {
		fail(fmt.Errorf("journal commit: %w", err))
		return
	}
	// Run numbers are assigned here: a number is durable exactly when the
	// frame holding its receipt is.
	next := j.runSeq.Load()
	recs := make([]logRec, 0, len(batch))
	seqs := make([]uint64, len(batch))
	for i, r := range batch {
		if errs[i] != nil {
			continue
		}
		next++
		seqs[i] = next
		binary.BigEndian.PutUint64(r.value[9:17], next)
		recs = append(recs, logRec{id: r.id, value: r.value})
	}
	if err := j.appendLocked(recs); err != nil {
		j.logErr = err
		j.log.Error("journal commit failed", "receipts", len(batch), "err", err)
		fail(fmt.Errorf("journal commit: %w", err))
		return
	}
	var ids []receipts.RunID
	var runSeqs []uint64
	j.pendMu.Lock()
	for i, r := range batch {
		if errs[i] == nil {
			j.pending[r.id] = r.value
			ids = append(ids, r.id)
			runSeqs = append(runSeqs, seqs[i])
			added[r.escrow] += r.cost
		}
	}
	npending := len(j.pending)
	j.pendMu.Unlock()
	// The spend must include these receipts before any caller learns they
	// are durable, or admission could briefly under-count.
	j.raiseRunSeq(next)
	j.applyIndexes(added, 1, ids, runSeqs)
	if npending >= applyAt || !j.wal.fits(j.wal.header.capacity/2) {
		select {
		case j.kick <- struct{}{}:
		default:
		}
	}
	n := 0
	for i, r := range batch {
		if errs[i] == nil {
			n++
		}
		r.done <- errs[i]
	}
	j.records.Add(uint64(n))
	j.commits.Add(1)
	for {
		m := j.maxRun.Load()
		if uint64(len(batch)) <= m || j.maxRun.CompareAndSwap(m, uint64(len(batch))) {
			break
		}
	}
}

// appendLocked (logMu held) logs recs: one frame, or several when they do
// not fit in one (each synced before the next is written, so that only
// the last can be torn). A full log is applied and reset first.
func (j *Journal) appendLocked(recs []logRec) error {
	if j.wal == nil {
		return ErrClosed
	}
	room := j.wal.header.capacity - logFramesAt
	for len(recs) > 0 {
		n := len(recs)
		for n > 1 && frameSize(recs[:n]) > room {
			n /= 2
		}
		if frameSize(recs[:n]) > room {
			return fmt.Errorf("receipt of %d bytes does not fit in the receipt log (Config.LogBytes)", len(recs[0].value))
		}
		if !j.wal.fits(frameSize(recs[:n])) {
			if err := j.resetLocked(); err != nil {
				return err
			}
		}
		if err := j.wal.append(recs[:n]); err != nil {
			return err
		}
		recs = recs[n:]
	}
	return nil
}

func escrowKey(e [32]byte, id receipts.RunID) []byte {
	k := make([]byte, 48)
	copy(k, e[:])
	copy(k[32:], id[:])
	return k
}

// applyIndexes applies a committed transaction to the in-memory indexes:
// spend deltas (added if sign > 0, else subtracted) and run ids entering
// the unbatched set with their run numbers (enter non-nil, parallel to ids)
// or leaving it (enter nil).
func (j *Journal) applyIndexes(delta map[[32]byte]uint64, sign int, ids []receipts.RunID, enter []uint64) {
	j.spendMu.Lock()
	defer j.spendMu.Unlock()
	for e, c := range delta {
		if sign > 0 {
			j.spend[e] += c
		} else if j.spend[e] <= c {
			delete(j.spend, e)
		} else {
			j.spend[e] -= c
		}
	}
	for i, id := range ids {
		if enter != nil {
			j.unbatched[id] = enter[i]
		} else {
			delete(j.unbatched, id)
		}
	}
}

// UnsettledSpend is the total cost of this keeper's receipts for escrow that
// are recorded or batched but not yet settled (or written off).
func (j *Journal) UnsettledSpend(escrow [32]byte) uint64 {
	j.spendMu.RLock()
	defer j.spendMu.RUnlock()
	return j.spend[escrow]
}

// UnsettledTotal is UnsettledSpend summed over all escrows.
func (j *Journal) UnsettledTotal() uint64 {
	j.spendMu.RLock()
	defer j.spendMu.RUnlock()
	var t uint64
	for _, v := range j.spend {
		t += v
	}
	return t
}

// Entry is a stored receipt with its state.
type Entry struct {
	Signed   receipts.Signed
	State    State
	BatchSeq uint64
	// RunSeq is the run's sequence number: the keeper numbers its runs
	// 1, 2, 3, … as it records them, and settle carries the range of a
	// batch so the chain settles each number at most once.
	RunSeq uint64
}

func decodeEntry(v []byte) (Entry, error) {
	if len(v) < headerLen {
		return Entry{}, errors.New("journal: corrupt record")
	}
	s, err := receipts.UnmarshalSigned(v[headerLen:])
	if err != nil {
		return Entry{}, fmt.Errorf("journal: stored receipt: %w", err)
	}
	return Entry{Signed: s, State: State(v[0]), BatchSeq: binary.BigEndian.Uint64(v[1:9]), RunSeq: runSeqOf(v)}, nil
}

// inDB runs fn in a bbolt transaction whether or not the journal is
// closing: the committer and the applier finish their work during Close.
func (j *Journal) inDB(write bool, fn func(tx *bolt.Tx) error) error {
	j.dbMu.RLock()
	defer j.dbMu.RUnlock()
	if j.db == nil {
		return ErrBroken
	}
	if write {
		return guard(j.path, func() error { return j.db.Update(fn) })
	}
	return guard(j.path, func() error { return j.db.View(fn) })
}

func (j *Journal) view(fn func(tx *bolt.Tx) error) error {
	j.dbMu.RLock()
	defer j.dbMu.RUnlock()
	if j.closed.Load() {
		return ErrClosed
	}
	if j.db == nil {
		return ErrBroken
	}
	return guard(j.path, func() error { return j.db.View(fn) })
}

func (j *Journal) update(fn func(tx *bolt.Tx) error) error {
	if j.cfg.ReadOnly {
		return ErrReadOnly
	}
	j.dbMu.RLock()
	defer j.dbMu.RUnlock()
	if j.closed.Load() {
		return ErrClosed
	}
	if j.db == nil {
		return ErrBroken
	}
	return guard(j.path, func() error { return j.db.Update(fn) })
}

// Get returns one receipt.
func (j *Journal) Get(id receipts.RunID) (Entry, error) {
	var e Entry
	j.pendMu.RLock()
	v := j.pending[id]
	j.pendMu.RUnlock()
	if v != nil {
		return decodeEntry(v)
	}
	err := j.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketReceipts).Get(id[:])
		if v == nil {
			return fmt.Errorf("run %s: %w", id, ErrNotFound)
		}
		var err error
		e, err = decodeEntry(v)
		return err
	})
	return e, err
}

// Receipts lists an escrow's receipts in run order, starting after the run
// id after (zero for the beginning), at most limit.
func (j *Journal) Receipts(escrow [32]byte, after receipts.RunID, limit int) ([]Entry, error) {
	if limit <= 0 {
		limit = 100
	}
	if err := j.flush(); err != nil {
		return nil, err
	}
	var out []Entry
	err := j.view(func(tx *bolt.Tx) error {
		rb := tx.Bucket(bucketReceipts)
		c := tx.Bucket(bucketByEscrow).Cursor()
		start := escrowKey(escrow, after)
		for k, _ := c.Seek(start); k != nil && bytes.HasPrefix(k, escrow[:]) && len(out) < limit; k, _ = c.Next() {
			if bytes.Equal(k, start) {
				continue
			}
			v := rb.Get(k[32:])
			if v == nil {
				continue
			}
			e, err := decodeEntry(v)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// GroupKey is what a settle entry aggregates over: one escrow, one model
// set with weights, at one set of applied prices (the price epoch).
type GroupKey struct {
	Escrow [32]byte
	Models []receipts.ModelShare
}

func (k GroupKey) id() string {
	var b bytes.Buffer
	b.Write(k.Escrow[:])
	for _, m := range k.Models {
		_ = binary.Write(&b, binary.BigEndian, m)
	}
	return b.String()
}

// Group is a set of recorded receipts with one GroupKey, with totals.
type Group struct {
	Key             GroupKey
	RunIDs          []receipts.RunID
	InputTokens     uint64
	OutputTokens    uint64
	Cost            uint64
	FirstServedAtMs int64
	LastServedAtMs  int64
}

// Unbatched returns recorded receipts that are in no batch — the limit
// lowest-numbered — grouped by GroupKey. Groups are ordered by their
// lowest-numbered receipt.
func (j *Journal) Unbatched(limit int) ([]Group, error) {
	if limit <= 0 {
		limit = 1000
	}
	if err := j.flush(); err != nil {
		return nil, err
	}
	var groups []*Group
	index := map[string]*Group{}
	ids := j.unbatchedBySeq()
	err := j.view(func(tx *bolt.Tx) error {
		rb := tx.Bucket(bucketReceipts)
		n := 0
		for _, id := range ids {
			if n == limit {
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
			key := GroupKey{Escrow: r.Escrow, Models: r.Models}
			g := index[key.id()]
			if g == nil {
				g = &Group{Key: key, FirstServedAtMs: r.ServedAtMs}
				index[key.id()] = g
				groups = append(groups, g)
			}
			g.RunIDs = append(g.RunIDs, r.RunID)
			g.InputTokens += r.InputTokens
			g.OutputTokens += r.OutputTokens
			g.Cost += r.Cost
			g.FirstServedAtMs = min(g.FirstServedAtMs, r.ServedAtMs)
			g.LastServedAtMs = max(g.LastServedAtMs, r.ServedAtMs)
			n++
		}
		return nil
	})
	out := make([]Group, len(groups))
	for i, g := range groups {
		out[i] = *g
	}
	return out, err
}

// UnbatchedCount is the number of recorded receipts in no batch.
func (j *Journal) UnbatchedCount() (int, error) {
	if j.closed.Load() {
		return 0, ErrClosed
	}
	j.spendMu.RLock()
	defer j.spendMu.RUnlock()
	return len(j.unbatched), nil
}

// BatchState is the state of a settlement batch.
type BatchState string

const (
	BatchAssigned BatchState = "assigned"
	BatchSent     BatchState = "sent"
	BatchSettled  BatchState = "settled"
	BatchFailed   BatchState = "failed"
)

// Batch is a numbered settlement batch.
type Batch struct {
	Seq    uint64           `json:"seq"`
	State  BatchState       `json:"state"`
	RunIDs []receipts.RunID `json:"run_ids,omitempty"`
	Root   receipts.Hash    `json:"root"`
	Runs   uint64           `json:"runs"`
	Cost   uint64           `json:"cost"`
	// FirstRunSeq and LastRunSeq are the lowest and highest run numbers of
	// its receipts: the run range its settle transaction carries.
	FirstRunSeq uint64 `json:"first_run_seq"`
	LastRunSeq  uint64 `json:"last_run_seq"`
	// TxSignatures of every transaction sent for this batch, oldest first;
	// any of them may land.
	TxSignatures []string `json:"tx_signatures,omitempty"`
	// LastValidBlockHeight of the most recent send.
	LastValidBlockHeight uint64    `json:"last_valid_block_height,omitempty"`
	SettledSignature     string    `json:"settled_signature,omitempty"`
	SettledSlot          uint64    `json:"settled_slot,omitempty"`
	FailReason           string    `json:"fail_reason,omitempty"`
	CreatedAt            time.Time `json:"created_at"`
	SentAt               time.Time `json:"sent_at,omitzero"`
	SettledAt            time.Time `json:"settled_at,omitzero"`
	// Pruned is set once the batch's receipts were deleted after retention;
	// RunIDs is then empty.
	Pruned bool `json:"pruned,omitempty"`
}

func getBatch(tx *bolt.Tx, seq uint64) (*Batch, error) {
	v := tx.Bucket(bucketBatches).Get(u64(seq))
	if v == nil {
		return nil, fmt.Errorf("batch %d: %w", seq, ErrNotFound)
	}
	var b Batch
	if err := json.Unmarshal(v, &b); err != nil {
		return nil, fmt.Errorf("batch %d: corrupt: %w", seq, err)
	}
	return &b, nil
}

func putBatch(tx *bolt.Tx, b *Batch) error {
	v, err := json.Marshal(b)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketBatches).Put(u64(b.Seq), v)
}

// AssignBatch atomically puts the given recorded receipts into batch seq
// and returns it with its Merkle root. The batch lists them in run-id order
// whatever order they are given in: the leaf order is part of the root a
// user's proof is checked against, so it must not depend on how the
// settler packed the batch. seq must be unused, or name a failed batch
// (which it replaces). Every receipt must be in state Recorded.
func (j *Journal) AssignBatch(seq uint64, ids []receipts.RunID) (Batch, error) {
	if len(ids) == 0 {
		return Batch{}, ErrEmptyBatch
	}
	if err := j.flush(); err != nil {
		return Batch{}, err
	}
	ids = slices.Clone(ids)
	slices.SortFunc(ids, func(a, b receipts.RunID) int { return bytes.Compare(a[:], b[:]) })
	var out Batch
	err := j.update(func(tx *bolt.Tx) error {
		if old, err := getBatch(tx, seq); err == nil && old.State != BatchFailed {
			return fmt.Errorf("assign batch %d: %w (state %s)", seq, ErrSeqInUse, old.State)
		} else if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		rb := tx.Bucket(bucketReceipts)
		b := &Batch{Seq: seq, State: BatchAssigned, RunIDs: ids, CreatedAt: j.cfg.Now().UTC()}
		leaves := make([]receipts.Hash, len(ids))
		seen := make(map[receipts.RunID]bool, len(ids))
		for i, id := range ids {
			if seen[id] {
				return fmt.Errorf("assign batch %d: run %s listed twice: %w", seq, id, ErrWrongState)
			}
			seen[id] = true
			v := rb.Get(id[:])
			if v == nil {
				return fmt.Errorf("assign batch %d: run %s: %w", seq, id, ErrNotFound)
			}
			if State(v[0]) != StateRecorded {
				return fmt.Errorf("assign batch %d: run %s is %s: %w", seq, id, State(v[0]), ErrWrongState)
			}
			e, err := decodeEntry(v)
			if err != nil {
				return err
			}
			leaves[i] = receipts.LeafHash(e.Signed.Encoded)
			if b.FirstRunSeq == 0 || e.RunSeq < b.FirstRunSeq {
				b.FirstRunSeq = e.RunSeq
			}
			b.LastRunSeq = max(b.LastRunSeq, e.RunSeq)
			b.Runs++
			b.Cost += e.Signed.Receipt.Cost
			if err := rb.Put(id[:], restate(v, StateBatched, seq)); err != nil {
				return err
			}
		}
		b.Root = receipts.Root(leaves)
		out = *b
		return putBatch(tx, b)
	})
	if err == nil {
		j.applyIndexes(nil, 0, ids, nil)
	}
	return out, err
}

// MarkSent records that a transaction with signature sig was sent for
// batch seq (assigned or already sent; a re-send adds a signature).
func (j *Journal) MarkSent(seq uint64, sig string, lastValidBlockHeight uint64) error {
	return j.update(func(tx *bolt.Tx) error {
		b, err := getBatch(tx, seq)
		if err != nil {
			return err
		}
		if b.State != BatchAssigned && b.State != BatchSent {
			return fmt.Errorf("mark batch %d sent: it is %s: %w", seq, b.State, ErrWrongState)
		}
		b.State = BatchSent
		b.TxSignatures = append(b.TxSignatures, sig)
		b.LastValidBlockHeight = lastValidBlockHeight
		b.SentAt = j.cfg.Now().UTC()
		return putBatch(tx, b)
	})
}

// MarkSettled records that batch seq landed in transaction sig at slot:
// its receipts become settled and leave the unsettled spend. Marking a
// settled batch settled again is a no-op.
func (j *Journal) MarkSettled(seq uint64, sig string, slot uint64) error {
	delta := map[[32]byte]uint64{}
	err := j.update(func(tx *bolt.Tx) error {
		clear(delta)
		b, err := getBatch(tx, seq)
		if err != nil {
			return err
		}
		if b.State == BatchSettled {
			return nil
		}
		if b.State == BatchFailed {
			return fmt.Errorf("mark batch %d settled: it failed: %w", seq, ErrWrongState)
		}
		rb := tx.Bucket(bucketReceipts)
		for _, id := range b.RunIDs {
			v := rb.Get(id[:])
			if v == nil {
				return fmt.Errorf("batch %d: run %s missing", seq, id)
			}
			e, err := decodeEntry(v)
			if err != nil {
				return err
			}
			delta[e.Signed.Receipt.Escrow] += e.Signed.Receipt.Cost
			if err := rb.Put(id[:], restate(v, StateSettled, seq)); err != nil {
				return err
			}
		}
		b.State = BatchSettled
		b.SettledSignature = sig
		b.SettledSlot = slot
		b.SettledAt = j.cfg.Now().UTC()
		return putBatch(tx, b)
	})
	if err == nil {
		j.applyIndexes(delta, -1, nil, nil)
	}
	return err
}

// MarkFailed records that batch seq is known not to have landed and never
// will: its receipts return to Recorded (to be batched again) and the
// sequence number may be assigned again.
func (j *Journal) MarkFailed(seq uint64, reason string) error {
	var back []receipts.RunID
	var backSeqs []uint64
	err := j.update(func(tx *bolt.Tx) error {
		backSeqs = backSeqs[:0]
		b, err := getBatch(tx, seq)
		if err != nil {
			return err
		}
		if b.State != BatchAssigned && b.State != BatchSent {
			return fmt.Errorf("mark batch %d failed: it is %s: %w", seq, b.State, ErrWrongState)
		}
		rb := tx.Bucket(bucketReceipts)
		for _, id := range b.RunIDs {
			v := rb.Get(id[:])
			if v == nil {
				return fmt.Errorf("batch %d: run %s missing", seq, id)
			}
			backSeqs = append(backSeqs, runSeqOf(v))
			if err := rb.Put(id[:], restate(v, StateRecorded, 0)); err != nil {
				return err
			}
		}
		back = b.RunIDs
		b.State = BatchFailed
		b.FailReason = reason
		b.RunIDs = nil
		return putBatch(tx, b)
	})
	if err == nil {
		j.applyIndexes(nil, 0, back, backSeqs)
	}
	return err
}

// WriteOff marks recorded receipts as failed: they will never be settled
// (for example, their escrow was closed). They leave the unsettled spend
// and stay in the journal as evidence.
func (j *Journal) WriteOff(ids []receipts.RunID, reason string) error {
	if err := j.flush(); err != nil {
		return err
	}
	delta := map[[32]byte]uint64{}
	err := j.update(func(tx *bolt.Tx) error {
		clear(delta)
		rb := tx.Bucket(bucketReceipts)
		for _, id := range ids {
			v := rb.Get(id[:])
			if v == nil {
				return fmt.Errorf("write off run %s: %w", id, ErrNotFound)
			}
			if State(v[0]) != StateRecorded {
				return fmt.Errorf("write off run %s: it is %s: %w", id, State(v[0]), ErrWrongState)
			}
			e, err := decodeEntry(v)
			if err != nil {
				return err
			}
			delta[e.Signed.Receipt.Escrow] += e.Signed.Receipt.Cost
			if err := rb.Put(id[:], restate(v, StateFailed, 0)); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		j.applyIndexes(delta, -1, ids, nil)
		j.log.Warn("receipts written off", "runs", len(ids), "reason", reason)
	}
	return err
}

// Batch returns batch seq.
func (j *Journal) Batch(seq uint64) (Batch, error) {
	var out Batch
	err := j.view(func(tx *bolt.Tx) error {
		b, err := getBatch(tx, seq)
		if err == nil {
			out = *b
		}
		return err
	})
	return out, err
}

// LastBatch returns the batch with the highest sequence number; ok is false
// when there is none.
func (j *Journal) LastBatch() (b Batch, ok bool, err error) {
	err = j.view(func(tx *bolt.Tx) error {
		k, v := tx.Bucket(bucketBatches).Cursor().Last()
		if k == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(v, &b)
	})
	return b, ok, err
}

// PendingBatches returns the batches that are assigned or sent, by seq.
func (j *Journal) PendingBatches() ([]Batch, error) {
	var out []Batch
	err := j.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketBatches).ForEach(func(k, v []byte) error {
			var b Batch
			if err := json.Unmarshal(v, &b); err != nil {
				return err
			}
			if b.State == BatchAssigned || b.State == BatchSent {
				out = append(out, b)
			}
			return nil
		})
	})
	sort.Slice(out, func(a, b int) bool { return out[a].Seq < out[b].Seq })
	return out, err
}

// Proof returns the Merkle proof of a batched or settled receipt against
// its batch's root.
func (j *Journal) Proof(id receipts.RunID) (receipts.Proof, Batch, error) {
	var proof receipts.Proof
	var batch Batch
	if err := j.flush(); err != nil {
		return proof, batch, err
	}
	err := j.view(func(tx *bolt.Tx) error {
		rb := tx.Bucket(bucketReceipts)
		v := rb.Get(id[:])
		if v == nil {
			return fmt.Errorf("run %s: %w", id, ErrNotFound)
		}
		st := State(v[0])
		if st != StateBatched && st != StateSettled {
			return fmt.Errorf("run %s is %s, in no batch: %w", id, st, ErrWrongState)
		}
		b, err := getBatch(tx, binary.BigEndian.Uint64(v[1:9]))
		if err != nil {
			return err
		}
		batch = *b
		leaves := make([]receipts.Hash, len(b.RunIDs))
		index := -1
		for i, rid := range b.RunIDs {
			rv := rb.Get(rid[:])
			if rv == nil {
				return fmt.Errorf("batch %d: run %s missing", b.Seq, rid)
			}
			e, err := decodeEntry(rv)
			if err != nil {
				return err
			}
			leaves[i] = receipts.LeafHash(e.Signed.Encoded)
			if rid == id {
				index = i
			}
		}
		if index < 0 {
			return fmt.Errorf("batch %d does not list run %s", b.Seq, id)
		}
		proof, err = receipts.Prove(leaves, index)
		return err
	})
	return proof, batch, err
}

// Stats describes the journal.
type Stats struct {
	// Records is the number of receipts made durable since Open, Commits
	// the number of group commits (syncs) that took them, MaxGroup the
	// largest group.
	Records, Commits, MaxGroup uint64
	// CommitTime is the total time spent in group commits.
	CommitTime     time.Duration
	Unbatched      int
	UnsettledValue uint64
	FileBytes      int64
}

// Stats returns counters and sizes.
func (j *Journal) Stats() Stats {
	s := Stats{Records: j.records.Load(), Commits: j.commits.Load(), MaxGroup: j.maxRun.Load(), CommitTime: time.Duration(j.commitNano.Load()), UnsettledValue: j.UnsettledTotal()}
	s.Unbatched, _ = j.UnbatchedCount()
	if fi, err := os.Stat(j.path); err == nil {
		s.FileBytes = fi.Size()
	}
	return s
}
