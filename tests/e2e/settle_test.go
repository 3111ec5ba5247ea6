package e2e

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/demo/driver"
	"github.com/modelcommons/modelcommons/demo/moneytrail"
)

// requireTrail audits the node's batches since before and requires every
// check to pass; it returns the trail.
func (w *world) requireTrail(before *moneytrail.Snapshot, a moneytrail.Accounts, key string) *moneytrail.Trail {
	w.t.Helper()
	rs := w.waitSettled(key, time.Minute)
	tr, err := moneytrail.Audit(w.ctx, w.chain.RPC, a, before, rs)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, c := range tr.Checks {
		if !c.OK {
			w.t.Errorf("money trail: %s: %s", c.Name, c.Detail)
		}
	}
	if w.t.Failed() {
		w.t.FailNow()
	}
	return tr
}

func (w *world) snapshot(a moneytrail.Accounts) *moneytrail.Snapshot {
	w.t.Helper()
	s, err := moneytrail.Take(w.ctx, w.chain.RPC, a)
	if err != nil {
		w.t.Fatal(err)
	}
	return s
}

// An escrow that runs out while streams are in flight: the streams it
// admitted (their worst case reserved) finish, the next request is refused
// with HTTP 402 insufficient_quota, settlement charges exactly what was
// served and nothing goes below zero on chain (no shortfall, no unpaid).
func TestEscrowExhaustedMidStream(t *testing.T) {
	w := newWorld(t)
	sim := w.workersim("gpu-0", []string{"chat"}, "--per-token", "20ms", "--min-tokens", "64", "--max-tokens", "64")
	ms := w.activeModels([]string{"chat"}, []driver.KeeperWorker{{Name: "gpu-0", URL: sim.URL, Models: []string{"chat"}}})
	// 0.01 native: two streams of 64 output tokens (at 0.06 per 1k, 3 840
	// base units each plus the prompt) fit their worst case, a third does not.
	key, escrow := w.openEscrow("0.01")
	a := w.accounts([]solana.PublicKey{escrow}, ms)
	before := w.snapshot(a)

	var wg sync.WaitGroup
	started := make(chan struct{}, 2)
	streams := make([]response, 2)
	for i := range streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := chatRequest(w.ctx, w.keeper.API, key, "chat", true, 64, func() { started <- struct{}{} })
			if err != nil {
				t.Error(err)
			}
			streams[i] = r
		}()
	}
	for range streams {
		select {
		case <-started:
		case <-time.After(30 * time.Second):
			t.Fatal("streams did not start")
		}
	}
	// Both streams are mid-answer: the escrow's balance is spoken for.
	mid := w.chat(key, "chat", false, 64)
	wg.Wait()
	if mid.Status != http.StatusPaymentRequired || mid.Code != "insufficient_quota" {
		t.Fatalf("request while two streams hold the balance: HTTP %d %s", mid.Status, mid.Body)
	}
	for i, s := range streams {
		if s.Status != http.StatusOK || !s.Done || s.ErrorEvent || s.RunID == "" {
			t.Fatalf("stream %d: %+v", i, s)
		}
	}
	// Served and not yet settled, the spend still counts.
	if next := w.chat(key, "chat", true, 64); next.Status != http.StatusPaymentRequired || next.Code != "insufficient_quota" {
		t.Fatalf("next request after the escrow ran out: HTTP %d %s", next.Status, next.Body)
	}

	tr := w.requireTrail(before, a, key)
	e := w.escrow(escrow)
	if tr.Debited == 0 || e.Balance.BaseUnits != 10_000-tr.Debited || e.Unpaid.BaseUnits != 0 || e.Spent.BaseUnits != tr.Debited {
		t.Fatalf("escrow after settlement: %+v, debited %d", e, tr.Debited)
	}
	var runs uint64
	for _, b := range tr.Batches {
		runs += b.Runs
		if b.Shortfall != 0 {
			t.Errorf("batch %d has a shortfall of %d", b.Seq, b.Shortfall)
		}
	}
	if runs != 2 {
		t.Errorf("%d runs settled, want the 2 streams", runs)
	}
	// Settled, the rest of the balance still cannot cover a request.
	if after := w.chat(key, "chat", false, 64); after.Status != http.StatusPaymentRequired {
		t.Errorf("request after settlement: HTTP %d %s", after.Status, after.Body)
	}
}

// The keeper is SIGKILLed while a settlement batch is in flight, three
// times, and restarted on the same journal: every served run is charged
// exactly once — batch sequence numbers contiguous, each settled once, the
// runs on chain the runs served, every balance as clients/settlement
// predicts.
func TestKeeperSIGKILLDuringSettlement(t *testing.T) {
	w := newWorld(t)
	sim := w.workersim("gpu-0", []string{"chat"})
	ms := w.activeModels([]string{"chat"}, []driver.KeeperWorker{{Name: "gpu-0", URL: sim.URL, Models: []string{"chat"}}})
	key, escrow := w.openEscrow("5")
	a := w.accounts([]solana.PublicKey{escrow}, ms)
	before := w.snapshot(a)

	served := map[string]bool{}
	killedPending := 0
	for round := 0; round < 3; round++ {
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := 0; i < 12; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := chatRequest(w.ctx, w.keeper.API, key, "chat", i%2 == 0, 16, nil)
				if err != nil || r.Status != http.StatusOK || r.RunID == "" {
					t.Errorf("round %d request: %v %+v", round, err, r)
					return
				}
				mu.Lock()
				served[r.RunID] = true
				mu.Unlock()
			}()
		}
		wg.Wait()
		// Kill the keeper the moment a batch is in flight (assigned, planned,
		// signed or sent), else after 5 s whatever it is doing.
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			var st keeperStatus
			if err := w.keeper.Status(w.ctx, &st); err == nil && st.PendingBatches > 0 {
				killedPending++
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		w.keeper.Kill()
		if err := w.keeper.Restart(w.ctx); err != nil {
			t.Fatalf("restart after SIGKILL: %v", err)
		}
	}
	if killedPending == 0 {
		t.Fatal("no kill landed while a batch was in flight")
	}

	tr := w.requireTrail(before, a, key)
	rs := w.receipts(key)
	var runs uint64
	for _, b := range tr.Batches {
		runs += b.Runs
	}
	if runs != uint64(len(served)) || len(rs) != len(served) {
		t.Fatalf("%d runs served, %d receipts, %d runs settled on chain", len(served), len(rs), runs)
	}
	for _, r := range rs {
		if !served[r.RunID] || r.State != "settled" {
			t.Errorf("receipt %s (%s) is not one of the served runs", r.RunID, r.State)
		}
	}
	t.Logf("%d runs settled exactly once in %d batches across 3 SIGKILLs (%d during a batch)", runs, len(tr.Batches), killedPending)
}

// A worker dies in the middle of a streamed answer: the client gets an
// error instead of [DONE], the run leaves no receipt and costs nothing;
// the next run, on another worker, is settled and charged alone.
func TestWorkerDiesMidStream(t *testing.T) {
	w := newWorld(t)
	dying := w.workersim("gpu-dying", []string{"chat"}, "--per-token", "50ms", "--min-tokens", "40", "--max-tokens", "40")
	other := w.workersim("gpu-other", []string{"code"})
	ms := w.activeModels([]string{"chat", "code"}, []driver.KeeperWorker{
		{Name: "gpu-dying", URL: dying.URL, Models: []string{"chat"}},
		{Name: "gpu-other", URL: other.URL, Models: []string{"code"}},
	})
	key, escrow := w.openEscrow("5")
	a := w.accounts([]solana.PublicKey{escrow}, ms)
	before := w.snapshot(a)

	ctx, cancel := context.WithTimeout(w.ctx, time.Minute)
	defer cancel()
	r, err := chatRequest(ctx, w.keeper.API, key, "chat", true, 40, func() { dying.Proc.Kill() })
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != http.StatusOK || r.Done || !r.ErrorEvent {
		t.Fatalf("stream from a worker killed mid-answer: HTTP %d, done %v, error event %v:\n%s", r.Status, r.Done, r.ErrorEvent, r.Body)
	}
	ok := w.chat(key, "code", false, 16)
	if ok.Status != http.StatusOK {
		t.Fatalf("request to the live worker: %+v", ok)
	}

	tr := w.requireTrail(before, a, key)
	rs := w.receipts(key)
	if len(rs) != 1 || rs[0].RunID != ok.RunID {
		t.Fatalf("receipts %+v: want only the live worker's run %s (the dead stream was %s)", rs, ok.RunID, r.RunID)
	}
	var runs uint64
	for _, b := range tr.Batches {
		runs += b.Runs
	}
	if runs != 1 || tr.Debited != rs[0].Receipt.Cost {
		t.Fatalf("settled %d runs, debited %d; the live run cost %d", runs, tr.Debited, rs[0].Receipt.Cost)
	}
}
