package journal

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/modelcommons/modelcommons/keepers/receipts"
)

// Runs are numbered 1, 2, 3, … in recording order, concurrently recorded
// runs included; the numbers survive a reopen and continue from there; a
// batch carries the range of its runs.
func TestRunsAreNumberedDurablyAndInOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	j := open(t, path)
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := j.Record(ctx, signed(t, escrow(1), modelA, 1)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := j.HighestRunSeq(); got != 40 {
		t.Fatalf("highest run number %d, want 40", got)
	}
	runs, err := j.UnbatchedRuns(0)
	if err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	for _, r := range runs {
		seqs = append(seqs, r.Seq)
	}
	want := make([]uint64, 40)
	for i := range want {
		want[i] = uint64(i + 1)
	}
	if !slices.Equal(seqs, want) {
		t.Fatalf("run numbers %v", seqs)
	}
	b, err := j.AssignBatch(1, []receipts.RunID{runs[3].ID, runs[1].ID, runs[2].ID})
	if err != nil {
		t.Fatal(err)
	}
	if b.FirstRunSeq != 2 || b.LastRunSeq != 4 {
		t.Fatalf("batch range %d..%d, want 2..4", b.FirstRunSeq, b.LastRunSeq)
	}
	// A failed batch returns its runs with their numbers.
	if err := j.MarkFailed(1, "test"); err != nil {
		t.Fatal(err)
	}
	if again, _ := j.UnbatchedRuns(3); again[1].Seq != 2 || again[2].Seq != 3 {
		t.Fatalf("after failing: %+v", again)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	j = open(t, path)
	defer j.Close()
	if got := j.HighestRunSeq(); got != 40 {
		t.Fatalf("after reopen: highest %d", got)
	}
	s := signed(t, escrow(1), modelA, 1)
	if err := j.Record(ctx, s); err != nil {
		t.Fatal(err)
	}
	if e, _ := j.Get(s.Receipt.RunID); e.RunSeq != 41 {
		t.Fatalf("next run numbered %d, want 41", e.RunSeq)
	}
}

// The floor only raises the numbering; new runs number above it.
func TestRunSeqFloor(t *testing.T) {
	j := open(t, filepath.Join(t.TempDir(), "j.db"))
	defer j.Close()
	ctx := context.Background()
	recordAll(t, j, signed(t, escrow(1), modelA, 1))
	if err := j.SetRunSeqFloor(100); err != nil {
		t.Fatal(err)
	}
	if err := j.SetRunSeqFloor(50); err != nil {
		t.Fatal(err)
	}
	s := signed(t, escrow(1), modelA, 1)
	if err := j.Record(ctx, s); err != nil {
		t.Fatal(err)
	}
	if e, _ := j.Get(s.Receipt.RunID); e.RunSeq != 101 || j.HighestRunSeq() != 101 {
		t.Fatalf("run after floor 100 numbered %d (highest %d)", e.RunSeq, j.HighestRunSeq())
	}
}

// Stale lists unsettled runs the chain settled already, except those in a
// batch at or below the chain's last batch (possibly the one it settled).
func TestStaleRuns(t *testing.T) {
	j := open(t, filepath.Join(t.TempDir(), "j.db"))
	defer j.Close()
	var ss []receipts.Signed
	for i := 0; i < 6; i++ {
		ss = append(ss, signed(t, escrow(1), modelA, 1))
	}
	ids := recordAll(t, j, ss...) // runs 1..6
	if _, err := j.AssignBatch(1, ids[0:2]); err != nil {
		t.Fatal(err)
	}
	if _, err := j.AssignBatch(2, ids[2:4]); err != nil {
		t.Fatal(err)
	}
	// The chain settled batch 1 and run numbers up to 5.
	stale, err := j.Stale(5, 1)
	if err != nil {
		t.Fatal(err)
	}
	var got []uint64
	for _, s := range stale {
		got = append(got, s.Seq)
	}
	if !slices.Equal(got, []uint64{3, 4, 5}) {
		t.Fatalf("stale runs %v, want 3 4 5", got)
	}
	if stale[0].State != StateBatched || stale[0].Batch != 2 || stale[2].State != StateRecorded {
		t.Fatalf("stale detail %+v", stale)
	}
}

// A file of the previous format is refused with one error saying what to do.
func TestOldFormatIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		return b.Put(keySchema, u64(1))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(Config{Path: path})
	if !errors.Is(err, ErrUnsupported) {
		t.Fatalf("open format 1: %v", err)
	}
	t.Log(err)
}
