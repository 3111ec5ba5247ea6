package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcommons/modelcommons/keepers/journal"
	"github.com/modelcommons/modelcommons/keepers/receipts"
)

// journalSizeResult is what journal-size measures.
type journalSizeResult struct {
	Receipts int `json:"receipts"`
	// File sizes: after recording, after every receipt was batched and
	// settled (bbolt keeps the freed pages), compacted while the settled
	// receipts are still retained, and compacted after retention pruned them.
	RecordedBytes  int64   `json:"recorded_bytes"`
	SettledBytes   int64   `json:"settled_bytes"`
	CompactedBytes int64   `json:"compacted_bytes"`
	PrunedBytes    int64   `json:"pruned_compacted_bytes"`
	RecordSeconds  float64 `json:"record_seconds"`
	SettleSeconds  float64 `json:"settle_seconds"`
	CompactSeconds float64 `json:"compact_seconds"`
	PruneSeconds   float64 `json:"prune_compact_seconds"`
	Escrows        int     `json:"escrows"`
	BatchRuns      int     `json:"batch_runs"`
}

// benchJournalSize records n receipts (from 1 000 escrows, the way the
// gateway signs them), settles them in batches as the settler does, and
// reports the journal file's size at each stage, with compaction.
func benchJournalSize(args []string) error {
	fs := flag.NewFlagSet("journal-size", flag.ExitOnError)
	dir := fs.String("dir", "bench-out", "directory for the journal file")
	n := fs.Int("receipts", 1_000_000, "receipts to record")
	batch := fs.Int("batch", 20_000, "receipts per settlement batch (the settler's default MaxRuns)")
	writers := fs.Int("writers", 1024, "concurrent writers")
	jsonOut := fs.String("json", "", "also write the results as JSON to this file")
	_ = fs.Parse(args)
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	path := filepath.Join(*dir, "bench-size-journal.db")
	os.Remove(path)
	defer os.Remove(path)
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	j, err := journal.Open(journal.Config{Path: path, Retention: 24 * time.Hour, Now: clock})
	if err != nil {
		return err
	}
	defer j.Close()
	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			return 0
		}
		return fi.Size()
	}
	fmt.Printf("journal size benchmark: %d receipts from 1000 escrows, %d writers, batches of %d; %s\n", *n, *writers, *batch, path)
	res := journalSizeResult{Receipts: *n, Escrows: 1000, BatchRuns: *batch}

	key := benchKey()
	ids := make([]receipts.RunID, *n)
	var next atomic.Int64
	var wg sync.WaitGroup
	var firstErr atomic.Value
	start := time.Now()
	for g := 0; g < *writers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= *n {
					return
				}
				var esc [32]byte
				esc[0], esc[1] = byte(i%1000), byte(i%1000>>8)
				ms := time.Now().UnixMilli()
				s, err := receipts.Sign(receipts.Receipt{
					Version: receipts.Version, RunID: receipts.NewRunID(), Escrow: esc,
					Models:      []receipts.ModelShare{{ModelID: 1, WeightBps: 10000, InputPer1k: 1000, OutputPer1k: 2000}},
					InputTokens: 120, OutputTokens: 256, Cost: 632, ServedAtMs: ms, CompletedAtMs: ms + 40, Worker: "gpu-0",
				}, key)
				if err == nil {
					err = j.Record(context.Background(), s)
				}
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				ids[i] = s.Receipt.RunID
			}
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return fmt.Errorf("record: %w", err)
	}
	res.RecordSeconds = time.Since(start).Seconds()
	res.RecordedBytes = size()

	start = time.Now()
	for seq, lo := uint64(1), 0; lo < *n; seq, lo = seq+1, lo+*batch {
		hi := min(lo+*batch, *n)
		if _, err := j.AssignBatch(seq, ids[lo:hi]); err != nil {
			return fmt.Errorf("assign batch %d: %w", seq, err)
		}
		if err := j.MarkSent(seq, fmt.Sprintf("sig-%d", seq), 1000+seq); err != nil {
			return fmt.Errorf("mark sent %d: %w", seq, err)
		}
		if err := j.MarkSettled(seq, fmt.Sprintf("sig-%d", seq), 2000+seq); err != nil {
			return fmt.Errorf("mark settled %d: %w", seq, err)
		}
	}
	res.SettleSeconds = time.Since(start).Seconds()
	res.SettledBytes = size()

	start = time.Now()
	if err := j.Compact(); err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	res.CompactSeconds = time.Since(start).Seconds()
	res.CompactedBytes = size()

	mu.Lock()
	now = now.Add(25 * time.Hour) // past the retention window
	mu.Unlock()
	start = time.Now()
	pruned, err := j.Prune()
	if err != nil {
		return fmt.Errorf("prune: %w", err)
	}
	if err := j.Compact(); err != nil {
		return fmt.Errorf("compact after prune: %w", err)
	}
	res.PruneSeconds = time.Since(start).Seconds()
	res.PrunedBytes = size()

	perM := func(b int64) float64 { return float64(b) / float64(*n) * 1e6 / (1 << 20) }
	fmt.Printf("recorded   %6.1f MiB  (%.0f MiB per million receipts; %.1f s, GOMAXPROCS=%d)\n", float64(res.RecordedBytes)/(1<<20), perM(res.RecordedBytes), res.RecordSeconds, runtime.GOMAXPROCS(0))
	fmt.Printf("settled    %6.1f MiB  (%.0f MiB per million: batched and settled in %.1f s; bbolt keeps freed pages)\n", float64(res.SettledBytes)/(1<<20), perM(res.SettledBytes), res.SettleSeconds)
	fmt.Printf("compacted  %6.1f MiB  (%.0f MiB per million: live data while retained; %.1f s)\n", float64(res.CompactedBytes)/(1<<20), perM(res.CompactedBytes), res.CompactSeconds)
	fmt.Printf("pruned     %6.1f MiB  (%d receipts past retention deleted, then compacted; %.1f s)\n", float64(res.PrunedBytes)/(1<<20), pruned, res.PruneSeconds)
	if *jsonOut != "" {
		return writeJSON(*jsonOut, res)
	}
	return nil
}
