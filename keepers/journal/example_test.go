package journal_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/modelcommons/modelcommons/keepers/journal"
	"github.com/modelcommons/modelcommons/keepers/receipts"
)

// run signs a receipt for one run charged cost to escrow, as the gateway
// does before the response's last byte.
func run(key ed25519.PrivateKey, escrow [32]byte, cost uint64) receipts.Signed {
	now := time.Now().UnixMilli()
	s, err := receipts.Sign(receipts.Receipt{
		Version: receipts.Version, RunID: receipts.NewRunID(), Escrow: escrow,
		Models:      []receipts.ModelShare{{ModelID: 1, WeightBps: 10_000, InputPer1k: 5, OutputPer1k: 9}},
		InputTokens: 100, OutputTokens: 200, Cost: cost, ServedAtMs: now, CompletedAtMs: now + 40, Worker: "w1",
	}, key)
	if err != nil {
		log.Fatal(err)
	}
	return s
}

// setup makes a directory for the example's journal file and the keeper's
// signing key.
func setup() (dir string, key ed25519.PrivateKey) {
	dir, err := os.MkdirTemp("", "journal-example")
	if err != nil {
		log.Fatal(err)
	}
	seed := sha256.Sum256([]byte("example keeper key"))
	return dir, ed25519.NewKeyFromSeed(seed[:])
}

// One run's way through the journal: recorded (durable before the response
// ends), listed as unsettled, assigned to a settlement batch, sent, and
// marked settled once its transaction landed.
func Example() {
	dir, key := setup()
	defer os.RemoveAll(dir)
	escrow := [32]byte{7}

	j, err := journal.Open(journal.Config{Path: filepath.Join(dir, "journal.db")})
	if err != nil {
		log.Fatal(err)
	}
	defer j.Close()
	fmt.Println("new journal:", j.Created())

	// Append two runs.
	ctx := context.Background()
	for _, cost := range []uint64{1_300, 2_700} {
		if err := j.Record(ctx, run(key, escrow, cost)); err != nil {
			log.Fatal(err)
		}
	}

	// List what is not settled yet, in run-number order.
	runs, err := j.UnbatchedRuns(0)
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range runs {
		fmt.Printf("unsettled run #%d costs %d\n", r.Seq, r.Cost)
	}
	fmt.Println("unsettled spend of the escrow:", j.UnsettledSpend(escrow))

	// Settle them: one batch, sent, landed.
	b, err := j.AssignBatch(1, []receipts.RunID{runs[0].ID, runs[1].ID})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("batch %d: runs #%d..#%d, cost %d\n", b.Seq, b.FirstRunSeq, b.LastRunSeq, b.Cost)
	if err := j.MarkSent(b.Seq, "signature-of-the-settle-transaction", 1_000); err != nil {
		log.Fatal(err)
	}
	if err := j.MarkSettled(b.Seq, "signature-of-the-settle-transaction", 42); err != nil {
		log.Fatal(err)
	}
	settled, err := j.Batch(b.Seq)
	if err != nil {
		log.Fatal(err)
	}
	left, err := j.UnbatchedCount()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("batch 1 is", settled.State, "at slot", settled.SettledSlot)
	fmt.Println("unsettled runs:", left, "unsettled spend:", j.UnsettledSpend(escrow))
	// Output:
	// new journal: true
	// unsettled run #1 costs 1300
	// unsettled run #2 costs 2700
	// unsettled spend of the escrow: 4000
	// batch 1: runs #1..#2, cost 4000
	// batch 1 is settled at slot 42
	// unsettled runs: 0 unsettled spend: 0
}

// A recorded run survives closing the journal: a keeper reopening the file
// (after a restart or a crash) finds it unsettled, under the same number.
func ExampleOpen() {
	dir, key := setup()
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "journal.db")

	j, err := journal.Open(journal.Config{Path: path})
	if err != nil {
		log.Fatal(err)
	}
	if err := j.Record(context.Background(), run(key, [32]byte{7}, 500)); err != nil {
		log.Fatal(err)
	}
	if err := j.Close(); err != nil {
		log.Fatal(err)
	}

	j, err = journal.Open(journal.Config{Path: path})
	if err != nil {
		log.Fatal(err)
	}
	defer j.Close()
	runs, err := j.UnbatchedRuns(0)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("new journal:", j.Created(), "highest run number:", j.HighestRunSeq())
	fmt.Printf("unsettled: %d run(s), #%d costs %d\n", len(runs), runs[0].Seq, runs[0].Cost)
	// Output:
	// new journal: false highest run number: 1
	// unsettled: 1 run(s), #1 costs 500
}
