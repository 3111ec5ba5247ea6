package journal

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/modelcommons/modelcommons/keepers/receipts"
)

// crashWithLog records n receipts one at a time (one frame each) with the
// applier stopped, then closes the files without applying the log: what a
// crash between a frame's sync and its apply leaves. It returns the
// receipts with the run numbers they were given.
func crashWithLog(t *testing.T, path string, n int, esc byte) ([]receipts.Signed, map[receipts.RunID]uint64) {
	t.Helper()
	j := open(t, path)
	j.pauseApply.Store(true)
	var out []receipts.Signed
	seqs := map[receipts.RunID]uint64{}
	for i := range n {
		s := signed(t, escrow(esc), modelA, uint64(i+1))
		if err := j.Record(context.Background(), s); err != nil {
			t.Fatal(err)
		}
		e, err := j.Get(s.Receipt.RunID)
		if err != nil {
			t.Fatalf("acknowledged receipt not readable before apply: %v", err)
		}
		seqs[s.Receipt.RunID] = e.RunSeq
		out = append(out, s)
	}
	if j.pendingCount() != n {
		t.Fatalf("%d receipts pending, want %d only in the log", j.pendingCount(), n)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if len(readLogOf(t, path).recs) < n {
		t.Fatalf("the log holds fewer than %d receipts after the crash", n)
	}
	return out, seqs
}

func readLogOf(t *testing.T, path string) logContents {
	t.Helper()
	f, err := os.Open(logPath(path))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := readLog(logPath(path), f)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func wantAll(t *testing.T, j *Journal, ss []receipts.Signed, seqs map[receipts.RunID]uint64) {
	t.Helper()
	for _, s := range ss {
		e, err := j.Get(s.Receipt.RunID)
		if err != nil {
			t.Fatalf("acknowledged run %s lost: %v", s.Receipt.RunID, err)
		}
		if seqs != nil && e.RunSeq != seqs[s.Receipt.RunID] {
			t.Fatalf("run %s has run number %d, was acknowledged with %d", s.Receipt.RunID, e.RunSeq, seqs[s.Receipt.RunID])
		}
	}
	got, err := j.Receipts(ss[0].Receipt.Escrow, receipts.RunID{}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) < len(ss) {
		t.Fatalf("listing shows %d receipts of %d acknowledged", len(got), len(ss))
	}
}

func TestCrashBetweenLogSyncAndApplyLosesNothing(t *testing.T) {
	for _, readOnly := range []bool{true, false} {
		path := filepath.Join(t.TempDir(), "j.db")
		ss, seqs := crashWithLog(t, path, 5, 1)
		if rep, err := Verify(path); err != nil || rep.LogUnapplied != 5 {
			t.Fatalf("verify of the crashed journal: %+v, %v (want 5 receipts only in the log)", rep, err)
		}
		j := open(t, path, func(c *Config) { c.ReadOnly = readOnly })
		wantAll(t, j, ss, seqs)
		if j.HighestRunSeq() != 5 || j.UnsettledSpend(escrow(1)) != 15 {
			t.Fatalf("read-only %v: highest run %d, spend %d", readOnly, j.HighestRunSeq(), j.UnsettledSpend(escrow(1)))
		}
		if !readOnly {
			s := signed(t, escrow(1), modelA, 1)
			if err := j.Record(context.Background(), s); err != nil {
				t.Fatal(err)
			}
			if e, _ := j.Get(s.Receipt.RunID); e.RunSeq != 6 {
				t.Fatalf("the next run after replay is numbered %d, want 6", e.RunSeq)
			}
		}
		j.Close()
		// Replay emptied the log: bbolt alone holds them now.
		if c := readLogOf(t, path); c.frames != 0 {
			t.Fatalf("read-only %v: %d frames left in the log after recovery", readOnly, c.frames)
		}
		if rep, err := Verify(path); err != nil || rep.LogReceipts != 0 || rep.Receipts[StateRecorded] < 5 {
			t.Fatalf("verify after recovery: %+v, %v", rep, err)
		}
	}
}

func TestDuplicateAcrossLogAndBbolt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	j := open(t, path)
	j.pauseApply.Store(true)
	ctx := context.Background()
	s := signed(t, escrow(1), modelA, 3)
	if err := j.Record(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := j.Record(ctx, s); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("duplicate of a logged receipt: %v, want ErrDuplicate", err)
	}
	if err := j.flush(); err != nil {
		t.Fatal(err)
	}
	if j.pendingCount() != 0 {
		t.Fatal("flush left receipts pending")
	}
	if err := j.Record(ctx, s); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("duplicate of an applied receipt: %v, want ErrDuplicate", err)
	}
	j.Close()
	// Logged again, crash, replayed: still once.
	ss, _ := crashWithLog(t, path, 1, 2)
	j = open(t, path)
	defer j.Close()
	for _, x := range []receipts.Signed{s, ss[0]} {
		if err := j.Record(ctx, x); !errors.Is(err, ErrDuplicate) {
			t.Fatalf("duplicate after replay: %v, want ErrDuplicate", err)
		}
	}
	if j.UnsettledSpend(escrow(1)) != 3 || j.UnsettledSpend(escrow(2)) != 1 {
		t.Fatalf("spend %d, %d", j.UnsettledSpend(escrow(1)), j.UnsettledSpend(escrow(2)))
	}
}

// frameOffsets lists where the log's frames start.
func frameOffsets(t *testing.T, path string) []int64 {
	t.Helper()
	c := readLogOf(t, path)
	f, _ := os.Open(logPath(path))
	defer f.Close()
	var offs []int64
	for off := int64(logFramesAt); off < c.tail; {
		_, size, ok := readFrame(f, off, c.header.capacity, c.header.gen)
		if !ok {
			t.Fatalf("no frame at %d", off)
		}
		offs = append(offs, off)
		off += size
	}
	return offs
}

func writeAt(t *testing.T, path string, b []byte, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func TestTornLastFrameEndsTheLog(t *testing.T) {
	for _, tear := range []string{"garbage", "zeros", "header only"} {
		path := filepath.Join(t.TempDir(), "j.db")
		ss, seqs := crashWithLog(t, path, 5, 1)
		offs := frameOffsets(t, path)
		last := offs[len(offs)-1]
		switch tear {
		case "garbage":
			writeAt(t, logPath(path), []byte("torn write torn write"), last+40)
		case "zeros":
			writeAt(t, logPath(path), make([]byte, 200), last+frameHead)
		case "header only":
			writeAt(t, logPath(path), make([]byte, 4096-frameHead), last+frameHead)
		}
		j := open(t, path)
		wantAll(t, j, ss[:4], seqs)
		if _, err := j.Get(ss[4].Receipt.RunID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("%s: the torn frame's receipt: %v", tear, err)
		}
		if j.HighestRunSeq() != 4 {
			t.Fatalf("%s: highest run %d after a torn last frame, want 4", tear, j.HighestRunSeq())
		}
		j.Close()
	}
}

func TestDamagedFrameBeforeValidOnesIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	crashWithLog(t, path, 5, 1)
	offs := frameOffsets(t, path)
	writeAt(t, logPath(path), []byte{0xff, 0xee}, offs[1]+100)
	for _, ro := range []bool{false, true} {
		_, err := Open(Config{Path: path, ReadOnly: ro})
		var de *DamagedError
		if !errors.As(err, &de) || de.Path != logPath(path) || !strings.Contains(err.Error(), "followed by valid frames") {
			t.Fatalf("read-only %v: open with a damaged middle frame: %v, want a DamagedError naming %s", ro, err, logPath(path))
		}
	}
	if _, err := Verify(path); !errors.Is(err, ErrDamaged) {
		t.Fatalf("verify: %v", err)
	}
	// Truncated: shorter than its header says.
	path2 := filepath.Join(t.TempDir(), "j.db")
	crashWithLog(t, path2, 2, 1)
	if err := os.Truncate(logPath(path2), 3*4096); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(Config{Path: path2}); !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("open with a truncated log: %v", err)
	}
}

func TestForeignLogIsRefused(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.db"), filepath.Join(dir, "b.db")
	crashWithLog(t, a, 3, 1)
	jb := open(t, b)
	jb.Close()
	if err := os.Rename(logPath(a), logPath(b)); err != nil {
		t.Fatal(err)
	}
	for _, ro := range []bool{false, true} {
		_, err := Open(Config{Path: b, ReadOnly: ro})
		if !errors.Is(err, errForeignLog) || !strings.Contains(err.Error(), logPath(b)) || strings.Contains(err.Error(), "\n") {
			t.Fatalf("read-only %v: open with another journal's log: %v", ro, err)
		}
	}
	// Nothing applied, the log untouched.
	if c := readLogOf(t, b); len(c.recs) != 3 {
		t.Fatalf("the foreign log lost frames: %d receipts", len(c.recs))
	}
	// An empty journal with a log holding receipts is refused the same way.
	if err := os.Truncate(a, 0); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(logPath(b), logPath(a)); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(Config{Path: a}); !errors.Is(err, errOrphanLog) || !strings.Contains(err.Error(), "missing or empty") {
		t.Fatalf("an emptied journal beside its log: %v", err)
	}
	if fi, err := os.Stat(a); err != nil || fi.Size() != 0 {
		t.Fatalf("the refused open wrote a journal file: %v, %v", fi, err)
	}
}

func TestOlderJournalCopyGetsNewerLoggedReceipts(t *testing.T) {
	dir := t.TempDir()
	path, old := filepath.Join(dir, "j.db"), filepath.Join(dir, "old.db")
	j := open(t, path)
	first := recordAll(t, j, signed(t, escrow(1), modelA, 1), signed(t, escrow(1), modelA, 2))
	if _, err := SaveBackup(old, func(w io.Writer) (int64, error) { return j.WriteBackup(w, nil) }); err != nil {
		t.Fatal(err)
	}
	j.Close()
	ss, seqs := crashWithLog(t, path, 3, 1)
	if err := os.Rename(old, path); err != nil {
		t.Fatal(err)
	}
	j = open(t, path)
	defer j.Close()
	wantAll(t, j, ss, seqs)
	for _, id := range first {
		if _, err := j.Get(id); err != nil {
			t.Fatal(err)
		}
	}
	if j.HighestRunSeq() != 5 {
		t.Fatalf("highest run %d, want 5", j.HighestRunSeq())
	}
}

func TestBackupHoldsReceiptsOnlyInTheLog(t *testing.T) {
	dir := t.TempDir()
	j := open(t, filepath.Join(dir, "j.db"))
	defer j.Close()
	j.pauseApply.Store(true)
	ss := []receipts.Signed{signed(t, escrow(1), modelA, 1), signed(t, escrow(1), modelA, 2)}
	recordAll(t, j, ss...)
	dst := filepath.Join(dir, "backup.db")
	rep, err := SaveBackup(dst, func(w io.Writer) (int64, error) { return j.WriteBackup(w, nil) })
	if err != nil || rep.Receipts[StateRecorded] != 2 {
		t.Fatalf("backup: %+v, %v", rep, err)
	}
	if _, err := os.Stat(logPath(dst)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a backup is one file; found a log beside it: %v", err)
	}
	b := open(t, dst, func(c *Config) { c.ReadOnly = true })
	defer b.Close()
	wantAll(t, b, ss, nil)
}

func TestSalvageTakesTheLog(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "j.db")
	ss, _ := crashWithLog(t, path, 4, 1)
	// Damage the second frame: the others are still taken.
	offs := frameOffsets(t, path)
	writeAt(t, logPath(path), []byte{0xff}, offs[1]+100)
	dst := filepath.Join(dir, "salvaged.db")
	rep, err := Salvage(path, dst)
	if err != nil {
		t.Fatal(err)
	}
	if rep.LogTaken != 3 || len(rep.Problems) == 0 {
		t.Fatalf("salvage took %d logged receipts (want 3), problems %q", rep.LogTaken, rep.Problems)
	}
	if _, err := os.Stat(logPath(dst)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("salvage left a log beside its copy: %v", err)
	}
	j := open(t, dst, func(c *Config) { c.ReadOnly = true })
	defer j.Close()
	for i, s := range ss {
		_, err := j.Get(s.Receipt.RunID)
		if (i == 1) != errors.Is(err, ErrNotFound) {
			t.Fatalf("salvaged receipt %d: %v", i, err)
		}
	}
	if j.HighestRunSeq() != 4 {
		t.Fatalf("salvaged run counter %d, want 4", j.HighestRunSeq())
	}
}

// A full log is applied and reset by the committer; nothing is lost.
func TestFullLogIsResetWithoutLoss(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	j := open(t, path, func(c *Config) { c.LogBytes = 8 * logAlign })
	j.pauseApply.Store(true)
	var ss []receipts.Signed
	for i := range 20 {
		ss = append(ss, signed(t, escrow(1), modelA, uint64(i+1)))
	}
	recordAll(t, j, ss...)
	if j.pendingCount() >= 20 {
		t.Fatal("the log never filled")
	}
	j.Close()
	j = open(t, path, func(c *Config) { c.ReadOnly = true })
	defer j.Close()
	wantAll(t, j, ss, nil)
	if j.HighestRunSeq() != 20 {
		t.Fatalf("highest run %d", j.HighestRunSeq())
	}
}

// Replay is by run id: a logged receipt that was applied and batched
// before the crash stays batched (it is not recorded a second time).
func TestReplayKeepsLaterStates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	j := open(t, path)
	j.pauseApply.Store(true)
	ids := recordAll(t, j, signed(t, escrow(1), modelA, 4), signed(t, escrow(1), modelA, 5))
	if _, err := j.AssignBatch(1, ids[:1]); err != nil {
		t.Fatal(err)
	}
	if c := readLogOf(t, path); len(c.recs) != 2 {
		t.Fatalf("the log holds %d receipts, want both still there", len(c.recs))
	}
	j.Close()
	j = open(t, path)
	defer j.Close()
	if e, err := j.Get(ids[0]); err != nil || e.State != StateBatched || e.BatchSeq != 1 {
		t.Fatalf("batched receipt after replay: %+v, %v", e, err)
	}
	if n, _ := j.UnbatchedCount(); n != 1 || j.UnsettledSpend(escrow(1)) != 9 {
		t.Fatalf("unbatched %d, spend %d after replay", n, j.UnsettledSpend(escrow(1)))
	}
}

// A pruned receipt must not come back from a frame of the log.
func TestPrunedReceiptDoesNotComeBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	now := time.Now()
	j := open(t, path, func(c *Config) { c.Retention = time.Hour; c.Now = func() time.Time { return now } })
	j.pauseApply.Store(true)
	ids := recordAll(t, j, signed(t, escrow(1), modelA, 4))
	if _, err := j.AssignBatch(1, ids); err != nil {
		t.Fatal(err)
	}
	if err := j.MarkSent(1, "sig", 9); err != nil {
		t.Fatal(err)
	}
	if err := j.MarkSettled(1, "sig", 9); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Hour)
	if n, err := j.Prune(); err != nil || n != 1 {
		t.Fatalf("prune: %d, %v", n, err)
	}
	j.Close()
	j = open(t, path)
	defer j.Close()
	if _, err := j.Get(ids[0]); !errors.Is(err, ErrNotFound) {
		t.Fatalf("pruned receipt after reopen: %v", err)
	}
	if j.UnsettledSpend(escrow(1)) != 0 {
		t.Fatalf("a pruned receipt counts as unsettled spend: %d", j.UnsettledSpend(escrow(1)))
	}
}

// The refusal of a damaged log names the log and says to salvage the
// journal (salvage takes the log with it).
func TestDamagedLogSaysToSalvageTheJournal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	crashWithLog(t, path, 1, 1)
	if err := os.Truncate(logPath(path), 2*4096); err != nil {
		t.Fatal(err)
	}
	_, err := Open(Config{Path: path})
	if err == nil || !strings.Contains(err.Error(), "journal "+logPath(path)+" is damaged") ||
		!strings.Contains(err.Error(), "keeper journal salvage "+path+" <new file>") {
		t.Fatalf("refusal: %v", err)
	}
}

// A version-2 file (no receipt log, no journal id) keeps its receipts and
// is upgraded to version 3 by a read-write open; read-only it is read as
// it is.
func TestVersion2FileIsUpgraded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	j := open(t, path)
	ids := recordAll(t, j, signed(t, escrow(1), modelA, 2))
	j.Close()
	// Make it what a version-2 keeper wrote.
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if err := meta.Delete(keyJournalID); err != nil {
			return err
		}
		return meta.Put(keySchema, u64(oldSchemaVersion))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(logPath(path)); err != nil {
		t.Fatal(err)
	}
	ro := open(t, path, func(c *Config) { c.ReadOnly = true })
	if _, err := ro.Get(ids[0]); err != nil {
		t.Fatal(err)
	}
	ro.Close()
	j = open(t, path)
	if _, err := j.Get(ids[0]); err != nil {
		t.Fatal(err)
	}
	j.Close()
	rep, err := Verify(path)
	if err != nil {
		t.Fatal(err)
	}
	var schema uint64
	db, err = bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	_ = db.View(func(tx *bolt.Tx) error {
		schema = be64(tx.Bucket(bucketMeta).Get(keySchema))
		if len(tx.Bucket(bucketMeta).Get(keyJournalID)) != 16 {
			t.Error("no journal id after the upgrade")
		}
		return nil
	})
	db.Close()
	if schema != schemaVersion || rep.Receipts[StateRecorded] != 1 {
		t.Fatalf("after a read-write open: format %d, %+v", schema, rep)
	}
}

// A read-only open that cannot move logged receipts into the file fails
// naming the log; it never shows fewer receipts than were acknowledged.
func TestReadOnlyOpenWithoutWriteAccessNamesTheLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	crashWithLog(t, path, 2, 1)
	defer func() { openForRecovery = Open }()
	openForRecovery = func(c Config) (*Journal, error) {
		return nil, &os.PathError{Op: "open", Path: c.Path, Err: os.ErrPermission}
	}
	_, err := Open(Config{Path: path, ReadOnly: true})
	if err == nil || !strings.Contains(err.Error(), logPath(path)+" holds 2 receipts") || !strings.Contains(err.Error(), "write access") ||
		strings.Contains(err.Error(), "\n") {
		t.Fatalf("read-only open without write access: %v", err)
	}
	openForRecovery = Open
	j := open(t, path, func(c *Config) { c.ReadOnly = true })
	defer j.Close()
	if j.HighestRunSeq() != 2 {
		t.Fatalf("highest run %d after recovery", j.HighestRunSeq())
	}
}
