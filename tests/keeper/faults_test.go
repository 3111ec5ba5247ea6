package keeper_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/keepers/journal"
	"github.com/modelcommons/modelcommons/keepers/receipts"
	"github.com/modelcommons/modelcommons/keepers/settler"
	"github.com/modelcommons/modelcommons/tests/keeper"
)

func (e *env) proxy() *keeper.Proxy {
	e.t.Helper()
	p, err := keeper.NewProxy(e.w.Chain.URL)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { p.Close() })
	return p
}

func (e *env) escrows(n int, amount uint64) []solana.PublicKey {
	e.t.Helper()
	var out []solana.PublicKey
	for i := 0; i < n; i++ {
		esc, err := e.w.OpenEscrow(e.ctx, keeper.NewAPIKey(), amount, nil, nil)
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, esc)
	}
	return out
}

func (e *env) snapshot(escrows ...solana.PublicKey) *keeper.Snapshot {
	e.t.Helper()
	s, err := e.w.Snapshot(e.ctx, escrows)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func (e *env) audit(before *keeper.Snapshot) *keeper.AuditResult {
	e.t.Helper()
	res, err := e.w.Audit(e.ctx, e.j, before)
	if err != nil {
		e.t.Fatal(err)
	}
	return res
}

func (e *env) lastSeq() uint64 {
	e.t.Helper()
	seq, err := e.w.LastBatchSeq(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	return seq
}

func (e *env) round(s *settler.Settler) {
	e.t.Helper()
	if _, err := s.Round(e.ctx); err != nil {
		e.t.Fatalf("round: %v", err)
	}
}

// settleArgs decodes the settle instruction of a transaction.
func settleArgs(t *testing.T, tx *solana.Transaction) im.SettleArgs {
	t.Helper()
	for _, ix := range tx.Message.Instructions {
		if len(ix.Data) > 8 && bytes.Equal(ix.Data[:8], im.Instruction_Settle[:]) {
			var args im.SettleArgs
			if err := args.Unmarshal(ix.Data[8:]); err != nil {
				t.Fatal(err)
			}
			return args
		}
	}
	t.Fatal("no settle instruction")
	return im.SettleArgs{}
}

// A batch whose transaction was dropped on the way stays as it is while
// its blockhash is valid (re-sent as the same bytes); once the blockhash
// expired and the signature is absent, the same instruction is signed
// with a new blockhash under the same sequence number, and lands once.
func TestExpiredBlockhashResignsTheSameBatch(t *testing.T) {
	e := newEnv(t, mt.QueryPrice{InputPer1k: 9, OutputPer1k: 27})
	escrows := e.escrows(3, 200*native)
	before := e.snapshot(escrows...)
	ids := e.record(20, escrows, [][]receipts.ModelShare{e.w.Models[0].Single()}, rand.New(rand.NewPCG(5, 6)))
	e.clockPast(time.Now())

	p := e.proxy()
	p.SetDropSends(true)
	s := e.settler(p.URL, func(c *settler.Config) {
		c.AwaitTimeout = time.Second
		c.RebroadcastInterval = 300 * time.Millisecond
	})
	e.round(s) // builds, signs and sends batch 1: dropped
	e.round(s) // still valid: the same bytes again
	b, err := e.j.Batch(1)
	if err != nil {
		t.Fatal(err)
	}
	dropped := p.Dropped()
	if b.State != journal.BatchSent || len(b.TxSignatures) != 1 || e.lastSeq() != 0 || len(dropped) < 2 {
		t.Fatalf("batch 1 %s with %d signatures, chain at %d, %d sends dropped", b.State, len(b.TxSignatures), e.lastSeq(), len(dropped))
	}
	for _, tx := range dropped {
		if tx.Signatures[0].String() != b.TxSignatures[0] {
			t.Fatalf("a re-send was not the same transaction: %s, first %s", tx.Signatures[0], b.TxSignatures[0])
		}
	}

	if err := e.w.Chain.WarpSlots(e.ctx, 200); err != nil {
		t.Fatal(err)
	}
	p.SetDropSends(false)
	e.drain(s)
	b, _ = e.j.Batch(1)
	if e.lastSeq() != 1 || b.State != journal.BatchSettled || len(b.TxSignatures) != 2 || b.SettledSignature != b.TxSignatures[1] {
		t.Fatalf("after expiry: chain at %d, batch 1 %s, signatures %v, settled by %s", e.lastSeq(), b.State, b.TxSignatures, b.SettledSignature)
	}
	batches, err := e.w.SettledBatches(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := batches[1].Layout.Args, settleArgs(t, dropped[0]); !reflect.DeepEqual(got, want) {
		t.Fatalf("the batch was rebuilt with other contents:\nlanded  %+v\ndropped %+v", got, want)
	}
	e.settledAll(e.audit(before), ids)
}

// A send whose answer was lost (the node took it; the keeper timed out)
// and a crash right after: once its blockhash expired, the restarted
// settler finds the batch settled on chain and never signs it again.
func TestLostAnswerAfterSendIsNotResent(t *testing.T) {
	e := newEnv(t, mt.QueryPrice{InputPer1k: 9, OutputPer1k: 27})
	escrows := e.escrows(2, 200*native)
	before := e.snapshot(escrows...)
	ids := e.record(10, escrows, [][]receipts.ModelShare{e.w.Models[0].Single()}, rand.New(rand.NewPCG(7, 8)))
	e.clockPast(time.Now())

	p := e.proxy()
	p.SetLoseAnswers(true)
	crash := errors.New("crash")
	s := e.settler(p.URL, func(c *settler.Config) {
		c.Checkpoint = func(point string, _ uint64) error {
			if point == settler.PointSent {
				return crash
			}
			return nil
		}
	})
	if _, err := s.Round(e.ctx); !errors.Is(err, settler.ErrStopped) {
		t.Fatalf("round: %v", err)
	}
	if p.Forwarded() != 1 || e.lastSeq() != 1 {
		t.Fatalf("%d sends forwarded, chain at %d", p.Forwarded(), e.lastSeq())
	}
	if err := e.w.Chain.WarpSlots(e.ctx, 200); err != nil {
		t.Fatal(err)
	}
	p.SetLoseAnswers(false)
	e.drain(e.settler(p.URL, nil))
	b, _ := e.j.Batch(1)
	if b.State != journal.BatchSettled || len(b.TxSignatures) != 1 || p.Sends() != 1 || e.lastSeq() != 1 {
		t.Fatalf("batch 1 %s, %d signatures, %d sends, chain at %d", b.State, len(b.TxSignatures), p.Sends(), e.lastSeq())
	}
	e.settledAll(e.audit(before), ids)
}

// counterValue reads a counter with the given label from a registry.
func counterValue(t *testing.T, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label == "" || hasLabel(m, label, value) {
				total += m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
	}
	return total
}

func hasLabel(m *dto.Metric, name, value string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}

// The RPC endpoint goes down for a while under load: rounds fail and back
// off, nothing is lost, and once it is back settlement catches up.
func TestRPCDownSettlementCatchesUp(t *testing.T) {
	e := newEnv(t, mt.QueryPrice{InputPer1k: 4, OutputPer1k: 12})
	escrows := e.escrows(4, 500*native)
	before := e.snapshot(escrows...)
	p := e.proxy()
	reg := prometheus.NewRegistry()
	s := e.settler(p.URL, func(c *settler.Config) { c.Registry = reg })
	done := make(chan error, 1)
	go func() { done <- s.Run(e.ctx) }()
	rng := rand.New(rand.NewPCG(9, 10))
	shares := [][]receipts.ModelShare{e.w.Models[0].Single()}
	ids := e.record(30, escrows, shares, rng)
	waitFor(t, 30*time.Second, "first runs settled", func() bool {
		n, _ := e.j.UnbatchedCount()
		pending, _ := e.j.PendingBatches()
		return n == 0 && len(pending) == 0 && e.lastSeq() >= 1
	})

	p.SetDown(true)
	seq := e.lastSeq()
	for i := 0; i < 6; i++ {
		ids = append(ids, e.record(8, escrows, shares, rng)...)
		time.Sleep(400 * time.Millisecond)
	}
	if e.lastSeq() != seq {
		t.Fatal("settled while the endpoint was down")
	}
	if n := counterValue(t, reg, "keeper_settlement_failures_total", "kind", "rpc"); n == 0 {
		t.Fatal("no failed round counted while the endpoint was down")
	}
	if lag := s.Status().LagSeconds; lag < 1 {
		t.Fatalf("settlement lag %.1fs while the endpoint was down", lag)
	}
	p.SetDown(false)
	waitFor(t, time.Minute, "settlement caught up", func() bool {
		n, _ := e.j.UnbatchedCount()
		pending, _ := e.j.PendingBatches()
		return n == 0 && len(pending) == 0
	})
	res := e.audit(before)
	e.settledAll(res, ids)
	if res.Runs != uint64(len(ids)) {
		t.Fatalf("%d runs settled, %d recorded", res.Runs, len(ids))
	}
	if got := counterValue(t, reg, "keeper_runs_settled_total", "", ""); got != float64(len(ids)) {
		t.Fatalf("keeper_runs_settled_total %v, want %d", got, len(ids))
	}
	if s.Status().LastError == "" {
		t.Fatal("status shows no error from the outage")
	}
}

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Between serve and settle one escrow is closed (its runs can never be
// paid: written off, with the reason) and another's key is rotated (its
// runs are charged at the new escrow).
func TestEscrowClosedOrRotatedBeforeSettlement(t *testing.T) {
	e := newEnv(t, mt.QueryPrice{InputPer1k: 6, OutputPer1k: 18})
	es := e.escrows(3, 300*native)
	closed, rotated, plain := es[0], es[1], es[2]
	rng := rand.New(rand.NewPCG(11, 12))
	shares := [][]receipts.ModelShare{e.w.Models[0].Single()}
	closedIDs := e.record(10, []solana.PublicKey{closed}, shares, rng)
	rotatedIDs := e.record(10, []solana.PublicKey{rotated}, shares, rng)
	plainIDs := e.record(10, []solana.PublicKey{plain}, shares, rng)

	to, err := e.w.RotateKey(e.ctx, rotated, keeper.NewAPIKey())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.w.CloseEscrow(e.ctx, closed); err != nil {
		t.Fatal(err)
	}
	before := e.snapshot(rotated, to, plain)
	reg := prometheus.NewRegistry()
	s := e.settler(e.w.Chain.URL, func(c *settler.Config) {
		c.ClosedEscrowGrace = time.Millisecond
		c.Registry = reg
	})
	e.drain(s)
	res := e.audit(before)
	e.settledAll(res, append(rotatedIDs, plainIDs...))
	for _, id := range closedIDs {
		got, err := e.j.Get(id)
		if err != nil || got.State != journal.StateFailed {
			t.Fatalf("run %s of the closed escrow: %s, %v", id, got.State, err)
		}
	}
	if res.Debits[rotated] != 0 || res.Debits[to] == 0 || res.Debits[plain] == 0 {
		t.Fatalf("debits: rotated %d, its new escrow %d, plain %d", res.Debits[rotated], res.Debits[to], res.Debits[plain])
	}
	if n := counterValue(t, reg, "keeper_settlement_written_off_runs_total", "reason", settler.ReasonEscrowClosed); n != float64(len(closedIDs)) {
		t.Fatalf("written off %v runs, want %d", n, len(closedIDs))
	}
}

// An escrow is closed while a batch charging it is in flight (its
// transaction dropped): once the blockhash expired unseen, the batch —
// known not to have landed — is rebuilt under the same sequence number
// without that escrow's runs, which are written off.
func TestEscrowClosedWhileBatchInFlightRebuildsUnderTheSameSeq(t *testing.T) {
	e := newEnv(t, mt.QueryPrice{InputPer1k: 6, OutputPer1k: 18})
	es := e.escrows(2, 300*native)
	closed, plain := es[0], es[1]
	rng := rand.New(rand.NewPCG(13, 14))
	shares := [][]receipts.ModelShare{e.w.Models[0].Single()}
	closedIDs := e.record(5, []solana.PublicKey{closed}, shares, rng)
	plainIDs := e.record(5, []solana.PublicKey{plain}, shares, rng)
	e.clockPast(time.Now())

	p := e.proxy()
	p.SetDropSends(true)
	s := e.settler(p.URL, func(c *settler.Config) {
		c.AwaitTimeout = 500 * time.Millisecond
		c.ClosedEscrowGrace = time.Millisecond
	})
	e.round(s)
	first, _ := e.j.Batch(1)
	if first.State != journal.BatchSent || first.Runs != 10 {
		t.Fatalf("batch 1: %s, %d runs", first.State, first.Runs)
	}
	if err := e.w.CloseEscrow(e.ctx, closed); err != nil {
		t.Fatal(err)
	}
	before := e.snapshot(plain)
	if err := e.w.Chain.WarpSlots(e.ctx, 200); err != nil {
		t.Fatal(err)
	}
	p.SetDropSends(false)
	e.drain(s)
	b, _ := e.j.Batch(1)
	if e.lastSeq() != 1 || b.State != journal.BatchSettled || b.Runs != 5 || b.Root == first.Root {
		t.Fatalf("chain at %d; batch 1 %s with %d runs (root changed: %v)", e.lastSeq(), b.State, b.Runs, b.Root != first.Root)
	}
	res := e.audit(before)
	e.settledAll(res, plainIDs)
	for _, id := range closedIDs {
		if got, _ := e.j.Get(id); got.State != journal.StateFailed {
			t.Fatalf("run %s of the closed escrow is %s", id, got.State)
		}
	}
}
