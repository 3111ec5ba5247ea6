package journal

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/modelcommons/modelcommons/keepers/receipts"
)

var testKey = func() ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("journal test key"))
	return ed25519.NewKeyFromSeed(seed[:])
}()

func escrow(n byte) [32]byte { var e [32]byte; e[0] = n; return e }

func signed(t testing.TB, esc [32]byte, models []receipts.ModelShare, cost uint64) receipts.Signed {
	t.Helper()
	now := time.Now().UnixMilli()
	s, err := receipts.Sign(receipts.Receipt{
		Version: receipts.Version, RunID: receipts.NewRunID(), Escrow: esc, Models: models,
		InputTokens: 10, OutputTokens: 20, Cost: cost, ServedAtMs: now, CompletedAtMs: now + 5, Worker: "w1",
	}, testKey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var (
	modelA   = []receipts.ModelShare{{ModelID: 1, WeightBps: 10000, InputPer1k: 5, OutputPer1k: 9}}
	modelA2  = []receipts.ModelShare{{ModelID: 1, WeightBps: 10000, InputPer1k: 6, OutputPer1k: 9}} // new price epoch
	mixtureB = []receipts.ModelShare{{ModelID: 1, WeightBps: 5000, InputPer1k: 5, OutputPer1k: 9}, {ModelID: 2, WeightBps: 5000, InputPer1k: 1, OutputPer1k: 1}}
)

func open(t testing.TB, path string, mut ...func(*Config)) *Journal {
	t.Helper()
	cfg := Config{Path: path}
	for _, m := range mut {
		m(&cfg)
	}
	j, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func TestRecordIsDurableAndUnique(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	j := open(t, path)
	ctx := context.Background()
	s := signed(t, escrow(1), modelA, 7)
	if err := j.Record(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := j.Record(ctx, s); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("second record: want ErrDuplicate, got %v", err)
	}
	if got := j.UnsettledSpend(escrow(1)); got != 7 {
		t.Fatalf("unsettled spend %d, want 7", got)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if err := j.Record(ctx, signed(t, escrow(1), modelA, 1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("record after close: %v", err)
	}
	j = open(t, path)
	defer j.Close()
	e, err := j.Get(s.Receipt.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if e.State != StateRecorded || e.Signed.Receipt.Cost != 7 || e.Signed.Verify() != nil {
		t.Fatalf("reopened entry: %+v", e)
	}
	if got := j.UnsettledSpend(escrow(1)); got != 7 {
		t.Fatalf("unsettled spend after reopen %d, want 7", got)
	}
}

func TestDuplicateWithinOneGroupCommit(t *testing.T) {
	j := open(t, filepath.Join(t.TempDir(), "j.db"))
	defer j.Close()
	s := signed(t, escrow(1), modelA, 3)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = j.Record(context.Background(), s) }()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, ErrDuplicate):
			t.Fatalf("unexpected error %v", err)
		}
	}
	if ok != 1 || j.UnsettledSpend(escrow(1)) != 3 {
		t.Fatalf("%d successful records of one run, spend %d", ok, j.UnsettledSpend(escrow(1)))
	}
}

// Concurrent records share syncs: measured through Stats, not assumed.
func TestGroupCommitSharesSyncs(t *testing.T) {
	j := open(t, filepath.Join(t.TempDir(), "j.db"))
	defer j.Close()
	const writers, each = 256, 8
	start := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := 0; i < each; i++ {
				if err := j.Record(context.Background(), signed(t, escrow(byte(w%4)), modelA, 1)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	st := j.Stats()
	if st.Records != writers*each {
		t.Fatalf("records %d", st.Records)
	}
	if st.Commits*4 > st.Records {
		t.Fatalf("%d commits for %d records: group commit is not grouping", st.Commits, st.Records)
	}
	t.Logf("%d records in %d commits (largest %d)", st.Records, st.Commits, st.MaxGroup)
	var total uint64
	for e := byte(0); e < 4; e++ {
		total += j.UnsettledSpend(escrow(e))
	}
	if total != writers*each {
		t.Fatalf("unsettled total %d", total)
	}
}

func recordAll(t *testing.T, j *Journal, ss ...receipts.Signed) []receipts.RunID {
	t.Helper()
	var ids []receipts.RunID
	for _, s := range ss {
		if err := j.Record(context.Background(), s); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, s.Receipt.RunID)
	}
	return ids
}

func TestBatchLifecycle(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	j := open(t, path)
	defer func() { j.Close() }()
	a1, a2 := signed(t, escrow(1), modelA, 10), signed(t, escrow(1), modelA, 20)
	a3 := signed(t, escrow(1), modelA2, 30) // same escrow and model, other price epoch
	b1 := signed(t, escrow(1), mixtureB, 40)
	c1 := signed(t, escrow(2), modelA, 50)
	recordAll(t, j, a1, a2, a3, b1, c1)

	groups, err := j.Unbatched(0)
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 4 {
		t.Fatalf("%d groups, want 4 (escrow x model set x price epoch)", len(groups))
	}
	g := groups[0]
	if len(g.RunIDs) != 2 || g.Cost != 30 || g.InputTokens != 20 || g.OutputTokens != 40 || g.Key.Escrow != escrow(1) {
		t.Fatalf("first group: %+v", g)
	}

	ids := []receipts.RunID{a1.Receipt.RunID, a2.Receipt.RunID, c1.Receipt.RunID}
	b, err := j.AssignBatch(1, ids)
	if err != nil {
		t.Fatal(err)
	}
	if b.Root != receipts.RootOf([][]byte{a1.Encoded, a2.Encoded, c1.Encoded}) || b.Runs != 3 || b.Cost != 80 {
		t.Fatalf("batch: %+v", b)
	}
	// Batched receipts are out of the unbatched set and cannot be batched again.
	if _, err := j.AssignBatch(2, []receipts.RunID{a1.Receipt.RunID}); !errors.Is(err, ErrWrongState) {
		t.Fatalf("re-batching: %v", err)
	}
	if _, err := j.AssignBatch(1, []receipts.RunID{a3.Receipt.RunID}); !errors.Is(err, ErrSeqInUse) {
		t.Fatalf("seq reuse: %v", err)
	}
	// A failed assignment changed nothing.
	if e, _ := j.Get(a3.Receipt.RunID); e.State != StateRecorded {
		t.Fatalf("a3 is %s", e.State)
	}
	if n, _ := j.UnbatchedCount(); n != 2 {
		t.Fatalf("unbatched %d, want 2", n)
	}

	if err := j.MarkSent(1, "sig-1", 100); err != nil {
		t.Fatal(err)
	}
	if err := j.MarkSent(1, "sig-1b", 200); err != nil {
		t.Fatal(err)
	}
	got, _ := j.Batch(1)
	if got.State != BatchSent || len(got.TxSignatures) != 2 || got.LastValidBlockHeight != 200 {
		t.Fatalf("sent batch: %+v", got)
	}
	proof, pb, err := j.Proof(a2.Receipt.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if err := receipts.VerifyProof(pb.Root, receipts.LeafHash(a2.Encoded), proof); err != nil {
		t.Fatal(err)
	}

	if err := j.MarkSettled(1, "sig-1b", 77); err != nil {
		t.Fatal(err)
	}
	if err := j.MarkSettled(1, "sig-1b", 77); err != nil {
		t.Fatalf("settling twice must be a no-op: %v", err)
	}
	if j.UnsettledSpend(escrow(1)) != 70 || j.UnsettledSpend(escrow(2)) != 0 {
		t.Fatalf("spend after settle: %d %d", j.UnsettledSpend(escrow(1)), j.UnsettledSpend(escrow(2)))
	}
	if e, _ := j.Get(c1.Receipt.RunID); e.State != StateSettled || e.BatchSeq != 1 {
		t.Fatalf("c1: %+v", e)
	}
	if err := j.MarkFailed(1, "x"); !errors.Is(err, ErrWrongState) {
		t.Fatalf("failing a settled batch: %v", err)
	}

	// Batch 2 fails: receipts return, seq 2 is reused for a rebuilt batch.
	if _, err := j.AssignBatch(2, []receipts.RunID{a3.Receipt.RunID, b1.Receipt.RunID}); err != nil {
		t.Fatal(err)
	}
	if err := j.MarkFailed(2, "blockhash expired, signature absent"); err != nil {
		t.Fatal(err)
	}
	if n, _ := j.UnbatchedCount(); n != 2 {
		t.Fatalf("unbatched after failure %d", n)
	}
	if _, err := j.AssignBatch(2, []receipts.RunID{b1.Receipt.RunID}); err != nil {
		t.Fatalf("rebuild under the failed seq: %v", err)
	}
	last, ok, err := j.LastBatch()
	if err != nil || !ok || last.Seq != 2 || last.State != BatchAssigned {
		t.Fatalf("last batch: %+v %v %v", last, ok, err)
	}
	pending, _ := j.PendingBatches()
	if len(pending) != 1 || pending[0].Seq != 2 {
		t.Fatalf("pending: %+v", pending)
	}

	// a3 can never settle: write it off.
	if err := j.WriteOff([]receipts.RunID{a3.Receipt.RunID}, "escrow closed"); err != nil {
		t.Fatal(err)
	}
	if j.UnsettledSpend(escrow(1)) != 40 {
		t.Fatalf("spend after write-off: %d", j.UnsettledSpend(escrow(1)))
	}
	if err := j.WriteOff([]receipts.RunID{b1.Receipt.RunID}, "x"); !errors.Is(err, ErrWrongState) {
		t.Fatalf("writing off a batched receipt: %v", err)
	}

	list, err := j.Receipts(escrow(1), receipts.RunID{}, 10)
	if err != nil || len(list) != 4 {
		t.Fatalf("escrow receipts: %d %v", len(list), err)
	}
	page, _ := j.Receipts(escrow(1), list[1].Signed.Receipt.RunID, 10)
	if len(page) != 2 || page[0].Signed.Receipt.RunID != list[2].Signed.Receipt.RunID {
		t.Fatalf("paging after a run id: %d", len(page))
	}

	// The in-memory indexes are rebuilt identically from the file.
	groupsBefore, _ := j.Unbatched(0)
	nBefore, _ := j.UnbatchedCount()
	spend1, spend2 := j.UnsettledSpend(escrow(1)), j.UnsettledSpend(escrow(2))
	j.Close()
	j = open(t, path)
	groupsAfter, _ := j.Unbatched(0)
	nAfter, _ := j.UnbatchedCount()
	if nAfter != nBefore || len(groupsAfter) != len(groupsBefore) || j.UnsettledSpend(escrow(1)) != spend1 || j.UnsettledSpend(escrow(2)) != spend2 {
		t.Fatalf("after reopen: unbatched %d->%d, groups %d->%d, spend %d/%d -> %d/%d", nBefore, nAfter, len(groupsBefore), len(groupsAfter),
			spend1, spend2, j.UnsettledSpend(escrow(1)), j.UnsettledSpend(escrow(2)))
	}
	if spend1 != 40 || nBefore != 0 {
		t.Fatalf("final state: spend %d, unbatched %d", spend1, nBefore)
	}
}

func TestPruneAndCompactKeepTheFileBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	now := time.Now()
	clock := func() time.Time { return now }
	j := open(t, path, func(c *Config) { c.Retention = time.Hour; c.Now = clock; c.CompactMinBytes = 1 })
	seq := uint64(0)
	var kept receipts.Signed
	for round := 0; round < 6; round++ {
		var batch []receipts.Signed
		for i := 0; i < 500; i++ {
			batch = append(batch, signed(t, escrow(byte(i%3)), modelA, 1))
		}
		ids := recordAll(t, j, batch...)
		seq++
		if _, err := j.AssignBatch(seq, ids); err != nil {
			t.Fatal(err)
		}
		if err := j.MarkSettled(seq, "s", seq); err != nil {
			t.Fatal(err)
		}
	}
	kept = signed(t, escrow(9), modelA, 5)
	recordAll(t, j, kept)
	grown := fileSize(path)

	// Nothing is past retention yet.
	if n, err := j.Prune(); err != nil || n != 0 {
		t.Fatalf("early prune deleted %d (%v)", n, err)
	}
	now = now.Add(2 * time.Hour)
	n, err := j.Prune()
	if err != nil || n != 3000 {
		t.Fatalf("prune deleted %d, want 3000 (%v)", n, err)
	}
	if err := j.Maintain(); err != nil {
		t.Fatal(err)
	}
	shrunk := fileSize(path)
	if shrunk >= grown/2 {
		t.Fatalf("file %d -> %d bytes: not compacted", grown, shrunk)
	}
	t.Logf("file %d -> %d bytes", grown, shrunk)
	// Still fully usable, and the unsettled receipt survived.
	if _, err := j.Get(kept.Receipt.RunID); err != nil {
		t.Fatal(err)
	}
	b, err := j.Batch(3)
	if err != nil || !b.Pruned || b.State != BatchSettled {
		t.Fatalf("pruned batch record: %+v %v", b, err)
	}
	recordAll(t, j, signed(t, escrow(9), modelA, 5))
	if j.UnsettledSpend(escrow(9)) != 10 {
		t.Fatalf("spend lost across compaction: %d", j.UnsettledSpend(escrow(9)))
	}
	j.Close()
	j = open(t, path)
	defer j.Close()
	if j.UnsettledSpend(escrow(9)) != 10 {
		t.Fatal("spend lost across reopen")
	}
}

func TestSecondProcessIsLockedOut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	j := open(t, path)
	s := signed(t, escrow(1), modelA, 4)
	recordAll(t, j, s)
	if _, err := Open(Config{Path: path}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: want ErrLocked, got %v", err)
	}
	if _, err := Open(Config{Path: path, ReadOnly: true}); !errors.Is(err, ErrLocked) {
		t.Fatalf("read-only open while a writer holds it: want ErrLocked, got %v", err)
	}
	j.Close()
	ro, err := Open(Config{Path: path, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if ro.UnsettledSpend(escrow(1)) != 4 {
		t.Fatal("read-only journal lost the spend")
	}
	if _, err := ro.Get(s.Receipt.RunID); err != nil {
		t.Fatal(err)
	}
	if err := ro.Record(context.Background(), signed(t, escrow(1), modelA, 1)); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("record on a read-only journal: %v", err)
	}
	if _, err := ro.AssignBatch(1, []receipts.RunID{s.Receipt.RunID}); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("assign on a read-only journal: %v", err)
	}
	if _, err := Open(Config{Path: filepath.Join(t.TempDir(), "missing.db"), ReadOnly: true}); err == nil {
		t.Fatal("read-only open of a missing file succeeded")
	}
}

func TestStaleCompactionFileIsDiscarded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	j := open(t, path)
	s := signed(t, escrow(1), modelA, 1)
	recordAll(t, j, s)
	j.Close()
	if err := os.WriteFile(compactPath(path), []byte("partial copy"), 0o600); err != nil {
		t.Fatal(err)
	}
	j = open(t, path)
	defer j.Close()
	if _, err := os.Stat(compactPath(path)); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("stale compaction file left behind")
	}
	if _, err := j.Get(s.Receipt.RunID); err != nil {
		t.Fatal(err)
	}
}

// TestSIGKILLLosesNoAcknowledgedReceipt runs a child process that records
// receipts from many goroutines and prints each run id once Record returned;
// the parent kills it with SIGKILL at a random moment and checks that every
// printed run id is in the journal (opened read-write, or read-only, which
// recovers receipts only in the receipt log). Repeated for several kill
// points.
func TestSIGKILLLosesNoAcknowledgedReceipt(t *testing.T) {
	if os.Getenv("JOURNAL_CRASH_CHILD") != "" {
		crashChild()
		return
	}
	if testing.Short() {
		t.Skip("spawns processes")
	}
	for trial := 0; trial < 5; trial++ {
		path := filepath.Join(t.TempDir(), "j.db")
		cmd := exec.Command(os.Args[0], "-test.run=^TestSIGKILLLosesNoAcknowledgedReceipt$")
		cmd.Env = append(os.Environ(), "JOURNAL_CRASH_CHILD="+path)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var acked []string
		sc := bufio.NewScanner(out)
		killAt := 200 + rand.IntN(3000)
		for sc.Scan() {
			line := sc.Text()
			if id, ok := strings.CutPrefix(line, "acked "); ok {
				acked = append(acked, id)
				if len(acked) == killAt {
					_ = cmd.Process.Signal(syscall.SIGKILL)
				}
			}
		}
		_ = cmd.Wait()
		if len(acked) < killAt {
			t.Fatalf("trial %d: child acknowledged only %d receipts", trial, len(acked))
		}
		// Every other trial reads it read-only first (keeper status on a
		// stopped keeper), which must recover what only the log holds.
		j := open(t, path, func(c *Config) { c.ReadOnly = trial%2 == 0 })
		for _, s := range acked {
			id, err := receipts.ParseRunID(s)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := j.Get(id); err != nil {
				t.Fatalf("trial %d: acknowledged run %s lost after SIGKILL: %v", trial, s, err)
			}
		}
		st, _ := j.UnbatchedCount()
		j.Close()
		t.Logf("trial %d: killed after %d acks; %d receipts on disk", trial, len(acked), st)
	}
}

func crashChild() {
	j, err := Open(Config{Path: os.Getenv("JOURNAL_CRASH_CHILD")})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	var mu sync.Mutex
	w := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for g := 0; g < 32; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				s := signed(&testing.T{}, escrow(byte(g)), modelA, 1)
				if err := j.Record(context.Background(), s); err != nil {
					return
				}
				mu.Lock()
				fmt.Fprintf(w, "acked %s\n", s.Receipt.RunID)
				w.Flush()
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	time.Sleep(time.Minute) // wait to be killed
}
