package journal

import (
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/modelcommons/modelcommons/keepers/receipts"
)

// fixture writes a journal with enough receipts for branch pages: some
// settled, some batched, some only recorded. It returns the file's path,
// page size and high-water mark (pages in use).
func fixture(t *testing.T) (path string, pageSize, pages int64) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "fixture.db")
	j := open(t, path)
	ctx := context.Background()
	const n = 600
	ids := make([]receipts.RunID, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		s := signed(t, escrow(byte(i%4)), modelA, uint64(i+1))
		ids[i] = s.Receipt.RunID
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := j.Record(ctx, s); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	runs, err := j.UnbatchedRuns(n)
	if err != nil {
		t.Fatal(err)
	}
	for b := range 4 {
		var batch []receipts.RunID
		for _, r := range runs[b*100 : (b+1)*100] {
			batch = append(batch, r.ID)
		}
		seq := uint64(b + 1)
		if _, err := j.AssignBatch(seq, batch); err != nil {
			t.Fatal(err)
		}
		if b < 2 {
			if err := j.MarkSent(seq, "sig", 100); err != nil {
				t.Fatal(err)
			}
			if err := j.MarkSettled(seq, "sig", 7); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	fi, err := readMetas(path, f, st.Size())
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	if fi.meta.pgid < 20 {
		t.Fatalf("fixture has only %d pages", fi.meta.pgid)
	}
	return path, int64(fi.meta.pageSize), int64(fi.meta.pgid)
}

func copyFixture(t *testing.T, src string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "journal.db")
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return dst
}

// exercise reads everything a keeper and `keeper status` read; errors are
// allowed, a crash is not.
func exercise(j *Journal) {
	_, _ = j.UnbatchedRuns(0)
	_, _ = j.Stale(1<<62, 0)
	_, _, _ = j.LastBatch()
	_, _ = j.PendingBatches()
	_, _ = j.UnbatchedCount()
	for e := range 4 {
		if es, err := j.Receipts(escrow(byte(e)), receipts.RunID{}, 1000); err == nil {
			for _, r := range es[:min(len(es), 3)] {
				_, _ = j.Get(r.Signed.Receipt.RunID)
				_, _, _ = j.Proof(r.Signed.Receipt.RunID)
			}
		}
	}
	_ = j.Stats()
}

func wantDamaged(t *testing.T, path string, err error) {
	t.Helper()
	if !errors.Is(err, ErrDamaged) {
		t.Fatalf("want ErrDamaged, got %v", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, path) || !strings.Contains(msg, "restore") || !strings.Contains(msg, "salvage") || strings.Contains(msg, "\n") {
		t.Fatalf("the error is not one line naming the file and what to do: %q", msg)
	}
}

func TestTruncatedJournalIsRefused(t *testing.T) {
	src, ps, pages := fixture(t)
	hwm := pages * ps
	for _, tc := range []struct {
		name string
		size int64
	}{
		{"inside the first header page", 100},
		{"inside the second header page", ps + 17},
		{"after the header pages", 2 * ps},
		{"mid-page in the middle", hwm/2 + 1},
		{"at a page boundary in the middle", (pages / 2) * ps},
		{"one page short", hwm - ps},
		{"one byte short", hwm - 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := copyFixture(t, src)
			if err := os.Truncate(path, tc.size); err != nil {
				t.Fatal(err)
			}
			for _, ro := range []bool{false, true} {
				j, err := Open(Config{Path: path, ReadOnly: ro})
				if err == nil {
					j.Close()
				}
				wantDamaged(t, path, err)
			}
			if _, err := Verify(path); !errors.Is(err, ErrDamaged) {
				t.Fatalf("Verify: want ErrDamaged, got %v", err)
			}
		})
	}
	t.Run("the unused tail only", func(t *testing.T) {
		path := copyFixture(t, src)
		if err := os.Truncate(path, hwm); err != nil {
			t.Fatal(err)
		}
		j := open(t, path)
		if n, err := j.UnbatchedCount(); err != nil || n != 200 {
			t.Fatalf("unbatched %d, %v; want 200", n, err)
		}
		j.Close()
	})
}

func TestEmptyJournalFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(Config{Path: path, ReadOnly: true})
	wantDamaged(t, path, err)
	j := open(t, path)
	defer j.Close()
	if !j.Created() {
		t.Fatal("a 0-byte file opened as a new journal must say so (Created)")
	}
	j2path := filepath.Join(t.TempDir(), "other.db")
	j2 := open(t, j2path)
	if !j2.Created() {
		t.Fatal("a missing file is a new journal")
	}
	j2.Close()
	j2 = open(t, j2path)
	defer j2.Close()
	if j2.Created() {
		t.Fatal("an existing journal is not new")
	}
}

// Random bytes on data pages: Open refuses with ErrDamaged or, when the
// damage is where nothing reads (free pages, slack, a value's bytes),
// opens; reading then fails or succeeds, and never crashes the process.
func TestDamagedPagesNeverPanic(t *testing.T) {
	src, ps, pages := fixture(t)
	rng := rand.New(rand.NewPCG(16, 2026))
	refused := 0
	const trials = 90
	for trial := range trials {
		path := copyFixture(t, src)
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		page := 2 + rng.Int64N(pages-2)
		var junk []byte
		off := page * ps
		switch trial % 3 {
		case 0: // a whole page of garbage
			junk = make([]byte, ps)
		case 1: // a run of bytes somewhere in the page
			junk = make([]byte, 1+rng.IntN(64))
			off += rng.Int64N(ps - int64(len(junk)))
		case 2: // the page header and first elements
			junk = make([]byte, 16+rng.IntN(64))
		}
		for i := range junk {
			junk[i] = byte(rng.Uint32())
		}
		if _, err := f.WriteAt(junk, off); err != nil {
			t.Fatal(err)
		}
		f.Close()
		for _, ro := range []bool{true, false} {
			j, err := Open(Config{Path: path, ReadOnly: ro})
			if err != nil {
				if !errors.Is(err, ErrDamaged) && !errors.Is(err, ErrUnsupported) {
					t.Fatalf("trial %d (page %d at %d, %d bytes): want ErrDamaged, got %v", trial, page, off, len(junk), err)
				}
				refused++
				continue
			}
			exercise(j)
			j.Close()
		}
		if _, err := Verify(path); err != nil && !errors.Is(err, ErrDamaged) && !errors.Is(err, ErrUnsupported) {
			t.Fatalf("trial %d: Verify: %v", trial, err)
		}
	}
	if refused < trials/3 {
		t.Fatalf("only %d of %d opens of damaged files refused", refused, 2*trials)
	}
	t.Logf("%d of %d opens refused", refused, 2*trials)
}

func TestDamagedHeaderPages(t *testing.T) {
	src, ps, _ := fixture(t)
	garbage := func(path string, page int64) {
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteAt([]byte(strings.Repeat("\xa5", 200)), page*ps); err != nil {
			t.Fatal(err)
		}
	}
	// One torn header: bbolt uses the other, as after a crash mid-commit.
	for _, p := range []int64{0, 1} {
		path := copyFixture(t, src)
		garbage(path, p)
		j := open(t, path)
		exercise(j)
		j.Close()
	}
	path := copyFixture(t, src)
	garbage(path, 0)
	garbage(path, 1)
	_, err := Open(Config{Path: path})
	wantDamaged(t, path, err)
}

// destroyReceiptLeaf zeroes a leaf page of the receipts bucket that is in
// use (one Open refuses: a page that only looks like one may be free).
func destroyReceiptLeaf(t *testing.T, path string, ps, pages int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for p := int64(2); p < pages; p++ {
		pg := b[p*ps : (p+1)*ps]
		le := binary.LittleEndian
		if le.Uint64(pg) != uint64(p) || le.Uint16(pg[8:]) != flagLeaf || le.Uint16(pg[10:]) <= 3 ||
			le.Uint32(pg[16+8:]) != 16 || le.Uint32(pg[16+12:]) <= 100 {
			continue
		}
		d := append([]byte(nil), b...)
		clear(d[p*ps : (p+1)*ps])
		if err := os.WriteFile(path, d, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := checkFile(path, false); err != nil {
			return
		}
	}
	t.Fatal("no receipts leaf page in use in the fixture")
}

func TestSalvageCopiesWhatIsReadable(t *testing.T) {
	src, ps, pages := fixture(t)

	t.Run("undamaged", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "salvaged.db")
		rep, err := Salvage(src, out)
		if err != nil {
			t.Fatal(err)
		}
		if n := rep.Receipts[StateRecorded] + rep.Receipts[StateBatched] + rep.Receipts[StateSettled]; n != 600 || len(rep.Problems) != 0 || rep.RunSeq != 600 {
			t.Fatalf("salvaged %d receipts, run seq %d, problems %v; want 600, 600, none", n, rep.RunSeq, rep.Problems)
		}
		if _, err := Salvage(src, out); !errors.Is(err, ErrExists) {
			t.Fatalf("salvage over an existing file: %v", err)
		}
	})

	t.Run("a receipts page destroyed", func(t *testing.T) {
		path := copyFixture(t, src)
		destroyReceiptLeaf(t, path, ps, pages)
		_, err := Open(Config{Path: path})
		wantDamaged(t, path, err)
		out := filepath.Join(t.TempDir(), "salvaged.db")
		rep, err := Salvage(path, out)
		if err != nil {
			t.Fatal(err)
		}
		n := rep.Receipts[StateRecorded] + rep.Receipts[StateBatched] + rep.Receipts[StateSettled]
		if n >= 600 || n < 500 || len(rep.Problems) == 0 || rep.RunSeq != 600 || rep.Batches[BatchSettled] != 2 {
			t.Fatalf("salvaged %d receipts, run seq %d, batches %v, problems %v", n, rep.RunSeq, rep.Batches, rep.Problems)
		}
		j := open(t, out)
		defer j.Close()
		if j.HighestRunSeq() != 600 {
			t.Fatalf("salvaged journal numbers runs from %d, want 600", j.HighestRunSeq())
		}
		exercise(j)
	})

	t.Run("truncated", func(t *testing.T) {
		path := copyFixture(t, src)
		os.Truncate(path, (pages*2/3)*ps+100)
		out := filepath.Join(t.TempDir(), "salvaged.db")
		rep, err := Salvage(path, out)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Problems) == 0 {
			t.Fatal("a truncated journal salvaged without a problem reported")
		}
		t.Logf("salvaged %v, %d problems, first %q", rep.Receipts, len(rep.Problems), rep.Problems[0])
		j := open(t, out)
		exercise(j)
		j.Close()
	})
}

func TestBackupWhileRecording(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.db")
	j := open(t, path)
	defer j.Close()
	ctx := context.Background()
	before := make([]receipts.RunID, 50)
	for i := range before {
		s := signed(t, escrow(1), modelA, 1)
		before[i] = s.Receipt.RunID
		if err := j.Record(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // keeps recording while the copy is taken
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := j.Record(ctx, signed(t, escrow(2), modelA, 1)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	srv := httptest.NewServer(j.BackupHandler())
	defer srv.Close()
	dst := filepath.Join(t.TempDir(), "backup.db")
	rep, err := FetchBackup(ctx, nil, srv.URL+BackupPath, dst)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if rep.Receipts[StateRecorded] < len(before) {
		t.Fatalf("backup holds %d receipts, want at least %d", rep.Receipts[StateRecorded], len(before))
	}
	if _, err := FetchBackup(ctx, nil, srv.URL+BackupPath, dst); !errors.Is(err, ErrExists) {
		t.Fatalf("a second backup to the same file: want ErrExists, got %v", err)
	}
	b, err := Open(Config{Path: dst, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range before {
		if _, err := b.Get(id); err != nil {
			t.Fatalf("backup lacks run %s: %v", id, err)
		}
	}
	b.Close()

	// Direct mode needs the file lock the running journal holds.
	if _, err := BackupFile(path, filepath.Join(t.TempDir(), "direct.db")); !errors.Is(err, ErrLocked) {
		t.Fatalf("direct backup of a journal in use: want ErrLocked, got %v", err)
	}
	j.Close()
	direct := filepath.Join(t.TempDir(), "direct.db")
	rep2, err := BackupFile(path, direct)
	if err != nil {
		t.Fatal(err)
	}
	if rep2.RunSeq < rep.RunSeq {
		t.Fatalf("direct backup run seq %d below the earlier hot copy's %d", rep2.RunSeq, rep.RunSeq)
	}
}
